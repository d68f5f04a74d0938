"""Deterministic RCA scenarios: topology, simulated per-node z-scores, faults that propagate.

Signals are *simulated detector outputs*, not raw metrics: every (node, metric, minute) cell
holds a z-score = standard normal noise + injected fault effect (seasonality is assumed
removed by the detector). Cells with |z| > ``ANOMALY_Z`` become ``Anomaly`` events; sustained
cells (z > ``ALERT_Z`` for 2 minutes) become Alertmanager-style ``Alert`` events.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from engine.events import (
    Alert,
    AlertStatus,
    Anomaly,
    AnomalyKind,
    Change,
    Severity,
    TopologyEdge,
    TopologyNode,
    TopologyUpdate,
    stable_id,
)

T0 = 1_764_115_200.0
MINUTES = 90
ANOMALY_Z = 4.0
ALERT_Z = 5.0
KINDS = ("cpu_hog", "latency", "error_burst", "memory_leak", "bad_deploy", "host_failure")
SERVICE_METRICS = ("latency", "errors", "cpu", "memory")
HOST_METRICS = ("cpu", "memory")
ALERT_NAMES = {
    "latency": "HighLatency",
    "errors": "HighErrorRate",
    "cpu": "HighCPU",
    "memory": "HighMemory",
}


@dataclass
class Fault:
    kind: str
    root: str
    start_min: int
    affected: dict[str, int] = field(default_factory=dict)  # node -> onset minute


@dataclass
class Scenario:
    seed: int
    n_services: int
    nodes: list[TopologyNode]
    edges: list[TopologyEdge]
    faults: list[Fault]
    hard: list[str]
    events: list[Anomaly | Alert | Change | TopologyUpdate] = field(default_factory=list)
    truth: dict[str, str] = field(default_factory=dict)  # member id -> fault index or noise
    raw_notifications: int = 0
    anomaly_episodes: int = 0
    """Runs of anomalies per series (a gap over 5 min starts a new run)."""


def build_topology(
    rng: np.random.Generator, n: int
) -> tuple[list[TopologyNode], list[TopologyEdge]]:
    """Layered call graph of ``n`` services on ``max(3, n // 5)`` hosts, a few back edges."""
    n_hosts = max(3, n // 5)
    layers = np.sort(rng.integers(0, 4, size=n))
    layers[: max(1, n // 10)] = 0
    services = [f"svc-{i:03d}" for i in range(n)]
    hosts = [f"host-{i:02d}" for i in range(n_hosts)]
    nodes = [TopologyNode(s) for s in services] + [TopologyNode(h, "host") for h in hosts]
    edges: list[TopologyEdge] = []
    for i, s in enumerate(services):
        deeper = [j for j in range(n) if layers[j] > layers[i]]
        if deeper:
            near = [j for j in deeper if layers[j] == layers[i] + 1] or deeper
            picks = rng.choice(near, size=min(len(near), int(rng.integers(1, 4))), replace=False)
            edges.extend(TopologyEdge(s, services[int(j)]) for j in sorted(picks))
        edges.append(TopologyEdge(s, hosts[int(rng.integers(0, n_hosts))], "runs_on"))
    for _ in range(max(1, n // 50)):  # cycles are allowed
        a, b = rng.integers(0, n, size=2)
        if layers[a] > layers[b]:
            edges.append(TopologyEdge(services[int(a)], services[int(b)]))
    return nodes, edges


def callers_of(edges: list[TopologyEdge]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in edges:
        out.setdefault(e.target, []).append(e.source)
    return out


def metrics_of(node: str) -> tuple[str, ...]:
    return HOST_METRICS if node.startswith("host-") else SERVICE_METRICS


def make_cells(
    nodes: list[TopologyNode], rng: np.random.Generator
) -> dict[tuple[str, str], np.ndarray]:
    return {(n.id, m): rng.standard_normal(MINUTES) for n in nodes for m in metrics_of(n.id)}


def anomaly_events(scn: Scenario, z: dict, owner: dict) -> None:
    """Anomalies from |z| > ANOMALY_Z; truth from the fault owning the cell's effect."""
    for (node, metric), series in z.items():
        last = -10
        for minute in np.nonzero(np.abs(series) > ANOMALY_Z)[0]:
            scn.anomaly_episodes += int(minute) - last > 5
            last = int(minute)
            ts = T0 + 60 * int(minute)
            value = float(series[minute])
            a = Anomaly(
                id=stable_id("an", node, metric, ts),
                ts=ts,
                kind=AnomalyKind.METRIC,
                node=node,
                subject={"name": metric, "labels": {"service": node}},
                score=1.0 - math.exp(-(abs(value) - 3.0)),
                severity=Severity.CRITICAL if abs(value) > 8 else Severity.WARNING,
                detail={"z": round(value, 3)},
            )
            scn.events.append(a)
            scn.truth[a.id] = owner.get((node, metric, int(minute)), f"noise:{a.id}")


def alert_events(scn: Scenario, z: dict, owner: dict) -> None:
    """Alertmanager-style rule per (node, metric): fire after 2 min > ALERT_Z, resolve below 3."""
    for (node, metric), series in sorted(z.items()):
        firing, fp = False, stable_id("fp", node, metric)[3:]
        label = "host" if node.startswith("host-") else "service"
        for minute in range(1, MINUTES):
            ts = T0 + 60 * minute + 5
            if not firing and series[minute] > ALERT_Z and series[minute - 1] > ALERT_Z:
                firing = True
                status = AlertStatus.FIRING
                scn.raw_notifications += 1
                key = owner.get((node, metric, minute), f"noise:am-{fp}")
                scn.truth.setdefault(f"am-{fp}", key)
            elif firing and series[minute] < 3 and series[minute - 1] < 3:
                firing, status = False, AlertStatus.RESOLVED
            else:
                continue
            scn.events.append(
                Alert(
                    ts,
                    ALERT_NAMES[metric],
                    status,
                    Severity.CRITICAL if metric == "errors" else Severity.WARNING,
                    fp,
                    {label: node, "cluster": "eu-1", "alertname": ALERT_NAMES[metric]},
                )
            )
