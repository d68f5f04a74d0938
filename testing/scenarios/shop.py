"""Deterministic demo scenario: a service graph, its metrics and logs, one bad deploy, and noise.

About 20 services on 6 hosts call each other in layers (edge -> mid -> backend -> data).
Metrics are 1-minute samples of p99 latency and error ratio with daily seasonality and noise;
logs are routine request lines. At ``fault_at`` a bad deploy of one backend service
(``truth.root_cause``) makes its latency and errors jump; its callers degrade a minute or two
later, their callers after that. Unrelated noise: an innocent deploy elsewhere, and a brief
latency spike on a service in a separate part of the graph (``truth.noise_service``).

Everything here is pure and seeded: the same arguments give the same records. The records are
wire objects (dicts as in docs/events.md), so replaying them exercises the decoders too.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from engine.events import InputEvent, InputKind, Rejected

_LAYERS: Final = (
    ("web", "mobile-api"),
    ("checkout", "cart", "search", "catalog", "orders", "accounts"),
    ("payments", "inventory", "pricing", "auth", "shipping", "recommendations"),
    ("db-main", "db-orders", "cache", "queue"),
)
_ISLAND: Final = ("reporting", "warehouse-loader")
"""A small batch-analytics subgraph with its own host, unrelated to the shop's request path."""

METRIC_LATENCY: Final = "http_request_duration_p99_seconds"
METRIC_ERRORS: Final = "http_requests_error_ratio"


@dataclass(frozen=True, slots=True)
class Truth:
    """What was injected, for tests and for the demo's own check."""

    root_cause: str
    fault_at: float
    noise_service: str
    noise_at: float
    innocent_deploy: str


@dataclass(slots=True)
class Scenario:
    """Wire records per input kind, in time order, plus the injected truth."""

    records: dict[InputKind, list[dict[str, Any]]]
    topology: dict[str, Any]
    truth: Truth
    start: float
    end: float
    services: list[str] = field(default_factory=list)

    def events(self) -> Iterator[InputEvent]:
        """Typed events of every kind, merged by event time (topology first)."""
        from engine.ingest.decode import Origin, decode_object

        typed: list[tuple[float, int, InputEvent]] = []
        origin = Origin("topology", timestamp=self.start - 1.0)
        for event in decode_object(InputKind.TOPOLOGY, self.topology, origin):
            if not isinstance(event, Rejected):
                typed.append((self.start - 1.0, len(typed), event))
        for kind, records in self.records.items():
            for record in records:
                for event in decode_object(kind, record, Origin(kind.value)):
                    if not isinstance(event, Rejected):
                        typed.append((event.ts, len(typed), event))
        typed.sort(key=lambda t: (t[0], t[1]))
        return (e for _, _, e in typed)


def generate_scenario(
    seed: int = 7,
    *,
    n_services: int = 20,
    n_hosts: int = 6,
    hours: float = 4.0,
    start: float = 1_764_115_200.0,
) -> Scenario:
    """Build the scenario. ``n_services`` counts the shop's services and the island.

    >>> s = generate_scenario(seed=1, hours=4.0)
    >>> s.truth.root_cause, len(s.services), len(s.records[InputKind.METRICS]) > 9000
    ('payments', 20, True)
    """
    rng = random.Random(seed)
    shop = [svc for layer in _LAYERS for svc in layer][: max(4, n_services - len(_ISLAND))]
    services = [*shop, *_ISLAND]
    hosts = [f"node-{i + 1}" for i in range(n_hosts)]
    topology, placement = _topology(shop, hosts, rng)
    end = start + hours * 3600.0
    root = "payments" if "payments" in shop else shop[-1]
    truth = Truth(
        root_cause=root,
        fault_at=start + 0.75 * (end - start),
        noise_service=_ISLAND[0],
        noise_at=start + 0.75 * (end - start) + 600.0,
        innocent_deploy="catalog" if "catalog" in shop else shop[0],
    )
    story = _Story(truth, _propagation_delay_s(root, _callers(topology)), placement, rng)
    records: dict[InputKind, list[dict[str, Any]]] = {
        InputKind.METRICS: [],
        InputKind.LOGS: [],
        InputKind.CHANGES: [],
    }
    profile = {svc: (rng.uniform(0.04, 0.3), rng.uniform(0.001, 0.004)) for svc in services}
    for minute in range(int((end - start) // 60)):
        story.add_minute(records, start + 60.0 * minute, profile)
    records[InputKind.CHANGES] = _changes(truth, placement)
    return Scenario(records, topology, truth, start, end, services)


def _topology(
    shop: list[str], hosts: list[str], rng: random.Random
) -> tuple[dict[str, Any], dict[str, str]]:
    layers = [[s for s in layer if s in shop] for layer in _LAYERS]
    edges: list[dict[str, str]] = []
    for upper, lower in itertools.pairwise(layers):
        for i, caller in enumerate(upper):
            callees = {lower[i % len(lower)], lower[(i + 1) % len(lower)]} if lower else set()
            if lower and rng.random() < 0.5:
                callees.add(rng.choice(lower))
            edges += [{"from": caller, "to": c, "kind": "calls"} for c in sorted(callees)]
    if "checkout" in shop and "payments" in shop:
        edges.append({"from": "checkout", "to": "payments", "kind": "calls"})
    if "orders" in shop and "payments" in shop:
        edges.append({"from": "orders", "to": "payments", "kind": "calls"})
    edges.append({"from": _ISLAND[0], "to": _ISLAND[1], "kind": "calls"})
    shop_hosts = hosts[:-1] if len(hosts) > 1 else hosts
    placement = {svc: shop_hosts[i % len(shop_hosts)] for i, svc in enumerate(shop)}
    placement.update({svc: hosts[-1] for svc in _ISLAND})
    edges += [{"from": svc, "to": host, "kind": "runs_on"} for svc, host in placement.items()]
    unique = {(e["from"], e["to"], e["kind"]): e for e in edges}
    nodes = [{"id": s, "kind": "service"} for s in [*shop, *_ISLAND]]
    nodes += [{"id": h, "kind": "host"} for h in hosts]
    return {"nodes": nodes, "edges": list(unique.values())}, placement


def _callers(topology: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in topology["edges"]:
        if e["kind"] == "calls":
            out.setdefault(e["to"], []).append(e["from"])
    return out


def _propagation_delay_s(root: str, callers: dict[str, list[str]]) -> dict[str, float]:
    """Seconds after the fault at which each transitive caller of ``root`` degrades."""
    delay, frontier = {root: 0.0}, [root]
    while frontier:
        nxt = []
        for svc in frontier:
            for caller in callers.get(svc, []):
                if caller not in delay:
                    delay[caller] = delay[svc] + 120.0
                    nxt.append(caller)
        frontier = nxt
    return delay


@dataclass(frozen=True, slots=True)
class _Story:
    """The injected fault, how far it has spread, where services run, and the random source."""

    truth: Truth
    delay: dict[str, float]
    """Seconds after the fault at which each service degrades (absent: never)."""
    placement: dict[str, str]
    rng: random.Random

    def add_minute(
        self,
        records: dict[InputKind, list[dict[str, Any]]],
        ts: float,
        profile: dict[str, tuple[float, float]],
    ) -> None:
        """Append each service's metrics and logs at ``ts`` (``profile``: base latency, errors)."""
        for svc, base in profile.items():
            latency, errors = self._sample(svc, ts, base)
            labels = {"service": svc, "host": self.placement[svc], "cluster": "eu-1"}
            records[InputKind.METRICS].append(
                {"ts": ts, "name": METRIC_LATENCY, "value": round(latency, 6), "labels": labels}
            )
            records[InputKind.METRICS].append(
                {"ts": ts, "name": METRIC_ERRORS, "value": round(errors, 6), "labels": labels}
            )
            records[InputKind.LOGS].extend(self._logs(svc, ts, latency, errors))

    def _sample(self, svc: str, ts: float, profile: tuple[float, float]) -> tuple[float, float]:
        truth, rng = self.truth, self.rng
        base_latency, base_errors = profile
        season = 1.0 + 0.25 * math.sin(2 * math.pi * (ts % 86400.0) / 86400.0)
        latency = base_latency * season * math.exp(rng.gauss(0.0, 0.05))
        errors = max(0.0, base_errors * season * (1.0 + rng.gauss(0.0, 0.15)))
        since = ts - truth.fault_at - self.delay.get(svc, math.inf)
        if 0.0 <= since < 1800.0:
            hops = self.delay[svc] / 120.0
            latency *= 1.0 + 5.0 / (1.0 + hops)
            errors += 0.08 / (1.0 + 2.0 * hops)
        if svc == truth.noise_service and 0.0 <= ts - truth.noise_at < 180.0:
            latency *= 6.0
        return latency, errors

    def _logs(self, svc: str, ts: float, latency: float, errors: float) -> list[dict[str, Any]]:
        truth, rng, ms = self.truth, self.rng, int(latency * 1000)
        labels = {"service": svc, "cluster": "eu-1"}
        out = [
            {
                "ts": ts + 1.5,
                "level": "INFO",
                "labels": labels,
                "message": f"GET /api/{svc}/items/{rng.randint(1, 9999)} 200 in {ms}ms",
            }
        ]
        since = ts - truth.fault_at - self.delay.get(svc, math.inf)
        if svc == truth.root_cause and 0.0 <= since < 1800.0:
            out.append(
                {
                    "ts": ts + 7.25,
                    "level": "ERROR",
                    "labels": labels,
                    "message": f"Connection refused to db-main:5432 after "
                    f"{rng.randint(2900, 3100)} ms (attempt {rng.randint(1, 3)})",
                }
            )
        elif errors > 0.02 and rng.random() < 0.5:
            out.append(
                {
                    "ts": ts + 9.0,
                    "level": "WARN",
                    "labels": labels,
                    "message": f"upstream call failed with status 503 after {ms} ms",
                }
            )
        return out


def _changes(truth: Truth, placement: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "ts": truth.fault_at - 5400.0,
            "kind": "deploy",
            "service": truth.innocent_deploy,
            "version": "3.2.1",
            "description": f"rollout of {truth.innocent_deploy} 3.2.1",
            "labels": {"cluster": "eu-1"},
        },
        {
            "ts": truth.fault_at - 90.0,
            "kind": "deploy",
            "service": truth.root_cause,
            "version": "2.14.0",
            "description": f"rollout of {truth.root_cause} 2.14.0",
            "labels": {"cluster": "eu-1", "host": placement[truth.root_cause]},
        },
    ]
