"""Random layered service graphs (18-54 services) placed on hosts.

Layers go edge -> mid -> backend -> data; every service calls one to three services of the next
layer (sometimes one two layers down), so faults low in the graph spread to many callers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

_WORDS = [
    "web",
    "mobile",
    "api",
    "gateway",
    "checkout",
    "cart",
    "search",
    "catalog",
    "orders",
    "accounts",
    "payments",
    "inventory",
    "pricing",
    "auth",
    "shipping",
    "recommend",
    "reviews",
    "media",
    "notify",
    "billing",
    "ledger",
    "fraud",
    "profile",
    "session",
    "rating",
    "coupon",
    "tax",
    "geo",
    "mail",
    "sms",
    "export",
    "ingest",
    "feed",
    "social",
    "graph",
    "timeline",
    "ads",
    "promo",
    "stock",
    "warehouse",
    "courier",
    "invoice",
    "refund",
    "kyc",
    "audit",
    "report",
    "metrics",
    "config",
    "flags",
    "queue",
    "cache",
    "db",
    "search-index",
    "blob",
    "tenant",
    "quota",
]


@dataclass(frozen=True, slots=True)
class Graph:
    """Services (with their layer), hosts, placement and the calls edges (caller, callee)."""

    services: tuple[str, ...]
    layer: dict[str, int]
    hosts: tuple[str, ...]
    placement: dict[str, str]
    calls: tuple[tuple[str, str], ...]
    cluster: str

    def callers(self, node: str) -> list[str]:
        return [a for a, b in self.calls if b == node]

    def callees(self, node: str) -> list[str]:
        return [b for a, b in self.calls if a == node]

    def on_host(self, host: str) -> list[str]:
        return [s for s in self.services if self.placement[s] == host]

    def topology(self) -> dict[str, Any]:
        nodes = [{"id": s, "kind": "service"} for s in self.services]
        nodes += [{"id": h, "kind": "host"} for h in self.hosts]
        edges = [{"from": a, "to": b, "kind": "calls"} for a, b in self.calls]
        edges += [{"from": s, "to": h, "kind": "runs_on"} for s, h in self.placement.items()]
        return {"nodes": nodes, "edges": edges}


def random_graph(rng: random.Random, n_services: int) -> Graph:
    """A layered call graph of ``n_services`` services on about one host per four services."""
    names = rng.sample(_WORDS, min(n_services, len(_WORDS)))
    while len(names) < n_services:
        names.append(f"svc-{len(names)}")
    shares = (0.12, 0.33, 0.35, 0.20)
    layers: list[list[str]] = []
    at = 0
    for i, share in enumerate(shares):
        size = max(2, round(share * n_services)) if i < 3 else n_services - at
        layers.append(names[at : at + size])
        at += size
    layer = {s: i for i, members in enumerate(layers) for s in members}
    calls: set[tuple[str, str]] = set()
    for i in range(len(layers) - 1):
        for svc in layers[i]:
            for callee in rng.sample(layers[i + 1], min(len(layers[i + 1]), rng.randint(1, 3))):
                calls.add((svc, callee))
            if i + 2 < len(layers) and rng.random() < 0.3:
                calls.add((svc, rng.choice(layers[i + 2])))
        for callee in layers[i + 1]:  # everyone below the edge has a caller
            if not any(b == callee for _, b in calls):
                calls.add((rng.choice(layers[i]), callee))
    hosts = tuple(f"node-{i + 1}" for i in range(max(3, n_services // 4)))
    placement = {s: hosts[rng.randrange(len(hosts))] for s in names}
    for i, host in enumerate(hosts):  # no empty host
        if host not in placement.values():
            placement[names[i]] = host
    return Graph(
        tuple(names), layer, hosts, placement, tuple(sorted(calls)), rng.choice(["eu-1", "us-2"])
    )
