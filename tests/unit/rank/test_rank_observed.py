"""A quiet node that has telemetry is not named ahead of nodes with signals of their own; a
host explaining only one anomalous resident does not outrank that resident."""

from __future__ import annotations

import json

from engine.correlate.grouping import Correlator
from engine.correlate.state import CorrelateState
from engine.events import (
    Incident,
    IncidentSnapshot,
    IncidentStatus,
    Severity,
    TopologyEdge,
    TopologyNode,
)
from engine.rank.causes import CauseRanker
from engine.testing import T0
from testing.examples import example_anomaly

# checkout calls email, payment and cart (Online Boutique's shape); email fails first, then
# checkout shows its own CPU and memory; payment and cart stay quiet.
CALLS = [TopologyEdge("checkout", n) for n in ("email", "payment", "cart")]
CALLS += [TopologyEdge("frontend", n) for n in ("checkout", "cart")]


def _snap(anomalies, edges, observed=frozenset()) -> IncidentSnapshot:
    nodes = sorted({e.source for e in edges} | {e.target for e in edges})
    kinds = {e.target: "host" for e in edges if e.kind == "runs_on"}
    incident = Incident("inc-x", IncidentStatus.OPEN, T0, T0, Severity.WARNING, "",
                        tuple(a.id for a in anomalies))
    return IncidentSnapshot(incident, tuple(anomalies), (), (),
                            tuple(TopologyNode(n, kinds.get(n, "service")) for n in nodes),
                            tuple(edges), observed=frozenset(observed))


def _ranked(snap: IncidentSnapshot) -> list[str]:
    return [c.node for c in CauseRanker().rank(snap).root_causes]


def _checkout_incident() -> list:
    anomalies = [example_anomaly("email", T0 + 60 * i, 0.9999) for i in range(3)]
    anomalies += [example_anomaly("checkout", T0 + 60 + 60 * i, 0.9999, name)
                  for i in range(2) for name in ("cpu_usage", "memory_usage")]
    return anomalies


def test_quiet_observed_callees_come_after_every_node_with_signals() -> None:
    """Fails on main: payment (no signals, one anomalous caller) ranked above checkout, whose
    CPU and memory were anomalous, although payment had reported before and was quiet."""
    snap = _snap(_checkout_incident(), CALLS, observed={"email", "checkout", "payment", "cart"})
    ranked = _ranked(snap)
    assert ranked[:2] == ["email", "checkout"], ranked


def test_an_unobserved_silent_callee_keeps_its_place() -> None:
    """A node never heard from may have no telemetry: its silence is not held against it."""
    snap = _snap(_checkout_incident(), CALLS, observed={"email", "checkout"})
    ranked = _ranked(snap)
    assert ranked.index("payment") < ranked.index("checkout"), ranked


def test_a_host_explaining_only_its_one_anomalous_resident_ranks_after_it() -> None:
    """Fails on main: the host (CPU up with its only resident's) was named first."""
    edges = [TopologyEdge("ad", "node-76", "runs_on"), TopologyEdge("frontend", "ad")]
    anomalies = [example_anomaly("node-76", T0, 0.999, "node_cpu_usage")]
    anomalies += [example_anomaly("node-76", T0 + 60, 0.999, "node_memory_usage")]
    anomalies += [example_anomaly("ad", T0 + 60 * i, 0.9999, n)
                  for i in range(1, 3) for n in ("cpu_usage", "latency")]
    ranked = _ranked(_snap(anomalies, edges, observed={"ad", "node-76"}))
    assert ranked[:2] == ["ad", "node-76"], ranked


def test_a_host_of_several_anomalous_residents_still_ranks_first() -> None:
    edges = [TopologyEdge(s, "node-1", "runs_on") for s in ("a", "b", "c")]
    anomalies = [example_anomaly("node-1", T0 + 60 * i, 0.9999, "node_cpu") for i in range(3)]
    anomalies += [example_anomaly(s, T0 + 120 + 60 * i, 0.999) for s in "abc" for i in range(3)]
    assert _ranked(_snap(anomalies, edges, observed={"a", "b", "c", "node-1"}))[0] == "node-1"


def test_the_correlator_marks_nodes_with_anomalies_observed_and_keeps_them_in_its_state() -> None:
    op = Correlator(nodes=(TopologyNode("pay"),), edges=tuple(CALLS), confirm_s=0)
    events = [example_anomaly(n, T0 + 60 * i, 0.9999) for i in range(2) for n in ("email",)]
    state, out = op.process(op.initial_state(), events, now=T0 + 60)
    assert out
    assert out[-1].observed == {"email"}
    data = json.loads(json.dumps(state.to_dict()))
    assert CorrelateState.from_dict(data).to_dict() == data
    v3 = {**data, "version": 3}
    v3["topology"] = {**data["topology"], "nodes": [n[:3] for n in data["topology"]["nodes"]]}
    upgraded = CorrelateState.from_dict(v3)
    assert upgraded.version == 5  # v3 -> v4 (observed nodes) -> v5 (firing alerts)
    assert not any(upgraded.topology.is_observed(n) for n in ("email", "checkout"))
    state, _ = op.process(upgraded, [example_anomaly("email", T0 + 180, 0.9999)], now=T0 + 180)
    assert state.topology.is_observed("email")


def test_the_residents_of_an_anomalous_host_are_candidates() -> None:
    """Fails on main: only the host was named (its CPU rose with its one pod's, which showed
    nothing of its own); the pod's service is now named after it."""
    edges = [TopologyEdge("ad", "node-76", "runs_on"), TopologyEdge("frontend", "ad")]
    anomalies = [example_anomaly("node-76", T0 + 60 * i, 0.9999, "node_cpu") for i in range(3)]
    ranked = _ranked(_snap(anomalies, edges, observed={"ad", "node-76"}))
    assert ranked[:2] == ["node-76", "ad"], ranked
