"""Windowed anomalies (the ML monitor's drift checks) link to what fed the model in their window."""

from __future__ import annotations

from engine.correlate.grouping import Correlator, evidence_start
from engine.events import Anomaly, AnomalyKind, Severity, TopologyEdge, TopologyNode

NODES = (TopologyNode("payments"), TopologyNode("fraud", "model"), TopologyNode("store"))
EDGES = (
    TopologyEdge("payments", "fraud", "calls"),
    TopologyEdge("fraud", "store", "depends_on"),
)


def _metric(node: str, ts: float, name: str) -> Anomaly:
    return Anomaly(
        f"an-{node}-{name}-{ts}", ts, AnomalyKind.METRIC, node, {"name": name}, 0.99, Severity.ERROR
    )


def _drift(ts: float, window_s: float, feature: str = "amount") -> Anomaly:
    return Anomaly(
        f"an-drift-{feature}-{ts}",
        ts,
        AnomalyKind.DATA_DRIFT,
        "fraud",
        {"model": "fraud", "feature": feature},
        1.0,
        Severity.WARNING,
        {"window": [ts - window_s, ts]},
    )


def _holders(events: list[Anomaly]) -> dict[str, set[str]]:
    op = Correlator(nodes=NODES, edges=EDGES)
    _, out = op.process(op.initial_state(), events, now=events[-1].ts + 5000.0)
    return {s.incident.id: set(s.incident.alerts) for s in out}


def test_drift_joins_the_outage_of_a_dependency_active_in_its_window() -> None:
    outage = [_metric("store", 1000.0, "error_rate"), _metric("store", 1000.0, "latency")]
    drift = [_drift(1600.0, 3600.0), _drift(1600.0, 3600.0, "merchant")]
    groups = list(_holders([*outage, *drift]).values())
    assert {a.id for a in outage + drift} in groups


def test_drift_without_window_detail_keeps_the_link_window() -> None:
    outage = [_metric("store", 1000.0, "error_rate"), _metric("store", 1000.0, "latency")]
    point = Anomaly("an-point", 1600.0, AnomalyKind.DATA_DRIFT, "fraud", {}, 1.0, Severity.WARNING)
    groups = list(_holders([*outage, point]).values())
    assert all(not ({"an-point"} <= g and outage[0].id in g) for g in groups)


def test_drift_does_not_join_a_dependent_only_incident_outside_link_window() -> None:
    caller = [_metric("payments", 1000.0, "latency"), _metric("payments", 1000.0, "errors")]
    drift = _drift(1600.0, 3600.0)
    groups = list(_holders([*caller, drift]).values())
    assert all(not ({drift.id, caller[0].id} <= g) for g in groups)


def test_evidence_start_reads_the_window_and_ignores_other_details() -> None:
    assert evidence_start(_drift(7200.0, 3600.0)) == 3600.0
    assert evidence_start(_metric("store", 1.0, "x")) is None
    odd = Anomaly(
        "an-x", 1.0, AnomalyKind.METRIC, "a", {}, 0.9, Severity.INFO, {"window": ["x", 2]}
    )
    assert evidence_start(odd) is None
