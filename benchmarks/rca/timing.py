"""Timing of one ranking on a 1,000-node topology incident (baseline: max-z sort)."""

from __future__ import annotations

import time

import numpy as np

from benchmarks.rca.evaluate import baseline_rankings
from benchmarks.rca.scenarios import T0, build_topology
from engine.correlate.topology import Topology
from engine.events import (
    Anomaly,
    AnomalyKind,
    Incident,
    IncidentSnapshot,
    IncidentStatus,
    Severity,
    stable_id,
)
from engine.rank.causes import CauseRanker


def big_snapshot(n_services: int = 1000, n_anomalous: int = 200) -> IncidentSnapshot:
    rng = np.random.default_rng(7)
    nodes, edges = build_topology(rng, n_services)
    topo = Topology.build(nodes, edges)
    services = [n.id for n in nodes if n.kind == "service"]
    picked = sorted(rng.choice(services, size=n_anomalous, replace=False))
    anomalies = tuple(
        Anomaly(
            stable_id("an", s, k),
            T0 + 60 * k,
            AnomalyKind.METRIC,
            s,
            {"name": "latency"},
            0.999,
            Severity.WARNING,
            {"z": float(rng.uniform(4, 20))},
        )
        for s in picked
        for k in range(int(rng.integers(1, 5)))
    )
    incident = Incident(
        "inc-big",
        IncidentStatus.OPEN,
        T0,
        T0,
        Severity.WARNING,
        "",
        tuple(a.id for a in anomalies),
        nodes=tuple(picked),
    )
    hood_nodes, hood_edges = topo.neighbourhood(picked, hops=2)
    return IncidentSnapshot(incident, anomalies, (), (), hood_nodes, hood_edges)


def time_ranking(rounds: int = 9) -> tuple[list[float], list[float], int, int]:
    snap = big_snapshot()
    ranker = CauseRanker()
    base, cand = [], []
    for _ in range(rounds):
        t = time.perf_counter()
        baseline_rankings(snap)
        base.append(time.perf_counter() - t)
        t = time.perf_counter()
        ranker.rank(snap)
        cand.append(time.perf_counter() - t)
    return base, cand, len(snap.nodes), len(set(snap.incident.nodes))
