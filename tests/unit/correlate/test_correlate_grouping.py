from __future__ import annotations

import json

from engine.correlate.grouping import CorrelateState, Correlator
from engine.events import (
    Anomaly,
    AnomalyKind,
    Change,
    IncidentStatus,
    Severity,
    TopologyEdge,
    TopologyMode,
    TopologyNode,
    TopologyUpdate,
)
from engine.rules import parse
from engine.testing import T0
from testing.examples import (
    EXAMPLE_EDGES,
    EXAMPLE_NODES,
    example_alert,
    example_anomaly,
    example_stream,
)

# grouping behaviour without the confirmation hold (tested in test_correlate_confirmation.py)
OP = Correlator(nodes=EXAMPLE_NODES, edges=EXAMPLE_EDGES, window_s=600, quiet_s=900, confirm_s=0)


def _run(events, now):
    return OP.process(OP.initial_state(), events, now=now)


def test_related_anomalies_share_one_incident_and_unrelated_open_their_own() -> None:
    events = [
        example_anomaly("db", T0, 0.99),
        example_anomaly("web", T0 + 60, 0.99),
        example_anomaly("mail", T0 + 3000, 0.99),
    ]
    state, out = _run(events, now=T0 + 3000)
    groups = [sorted(r.nodes) for r in state.incidents.values()]
    assert sorted(groups) == [["db", "web"], ["mail"]]
    assert [s.incident.status for s in out] == [
        IncidentStatus.OPEN,
        IncidentStatus.UPDATED,
        IncidentStatus.RESOLVED,
        IncidentStatus.OPEN,
    ]


def test_ids_are_stable_and_revisions_count_up_per_incident() -> None:
    _, first = _run(example_stream(), now=T0 + 9000)
    _, again = _run(example_stream(), now=T0 + 9000)
    assert [s.incident.id for s in first] == [s.incident.id for s in again]
    revisions: dict[str, list[int]] = {}
    for snap in first:
        revisions.setdefault(snap.incident.id, []).append(snap.incident.revision)
    assert all(r == list(range(1, len(r) + 1)) for r in revisions.values())


def test_incident_resolves_only_after_quiet_period() -> None:
    state, _ = _run([example_anomaly("db", T0, 0.99)], now=T0)
    state, out = OP.process(state, [], now=T0 + 900)
    assert out == []
    state, out = OP.process(state, [], now=T0 + 901)
    assert [s.incident.status for s in out] == [IncidentStatus.RESOLVED]
    assert out[0].incident.updated_at == T0 + 900


def test_callers_of_a_shared_callee_are_related_but_callees_of_a_shared_caller_are_not() -> None:
    op = Correlator(
        edges=(
            TopologyEdge("a", "c"),
            TopologyEdge("b", "c"),
            TopologyEdge("p", "x"),
            TopologyEdge("p", "y"),
        ),
        max_hops=1,
        confirm_s=0,
    )
    events = [example_anomaly(n, T0, 0.99) for n in ("a", "b", "x", "y")]
    state, _ = op.process(op.initial_state(), events, now=T0)
    assert sorted(sorted(r.nodes) for r in state.incidents.values()) == [["a", "b"], ["x"], ["y"]]


def test_merge_emits_resolved_absorbed_incident_with_no_members() -> None:
    op = Correlator(
        nodes=(TopologyNode("a"), TopologyNode("b"), TopologyNode("m")),
        edges=(TopologyEdge("a", "m"), TopologyEdge("m", "b")),
        max_hops=1,
        confirm_s=0,
        merge_after_s=0,
    )
    state, out1 = op.process(
        op.initial_state(),
        [example_anomaly("a", T0, 0.99), example_anomaly("b", T0, 0.99)],
        now=T0,
    )
    assert len({s.incident.id for s in out1}) == 2
    state, out2 = op.process(state, [example_anomaly("m", T0 + 60, 0.99)], now=T0 + 60)
    by_status = {s.incident.status: s.incident for s in out2}
    absorbed = by_status[IncidentStatus.RESOLVED]
    survivor = by_status[IncidentStatus.UPDATED]
    assert absorbed.alerts == ()
    assert absorbed.labels == {"merged_into": survivor.id}
    assert len(survivor.alerts) == 3
    assert survivor.nodes == ("a", "b", "m")


BRIDGE_OP = Correlator(
    edges=(TopologyEdge("a", "m"), TopologyEdge("m", "b")), max_hops=1, confirm_s=0
)


def _groups(state: CorrelateState) -> list[list[str]]:
    return sorted(sorted(r.nodes) for r in state.incidents.values() if r.members)


def test_a_passing_blip_between_two_incidents_joins_one_and_merges_nothing() -> None:
    events = [example_anomaly(n, T0 + dt, 0.99) for dt in (0, 60, 120) for n in ("a", "b")]
    events.append(example_anomaly("m", T0 + 120, 0.99))
    state, _ = BRIDGE_OP.process(BRIDGE_OP.initial_state(), events, now=T0 + 120)
    assert _groups(state) == [["a"], ["b", "m"]] or _groups(state) == [["a", "m"], ["b"]]


def test_a_bridge_that_persists_merges_the_incidents_it_links() -> None:
    events = [example_anomaly(n, T0 + dt, 0.99) for dt in range(0, 301, 60) for n in ("a", "b")]
    events += [example_anomaly("m", T0 + dt, 0.99) for dt in range(60, 301, 60)]
    state, _ = BRIDGE_OP.process(
        BRIDGE_OP.initial_state(), sorted(events, key=lambda e: e.ts), now=T0 + 300
    )
    assert _groups(state) == [["a", "b", "m"]]


def test_a_new_node_does_not_join_through_a_neighbour_that_went_quiet() -> None:
    op = Correlator(edges=(TopologyEdge("a", "m"),), max_hops=1, confirm_s=0, link_s=180)
    early = [example_anomaly("m", T0 + dt, 0.99) for dt in (0, 60)]
    state, _ = op.process(op.initial_state(), early, now=T0 + 60)
    state, _ = op.process(state, [example_anomaly("a", T0 + 300, 0.99)], now=T0 + 300)
    assert _groups(state) == [["a"], ["m"]]


def test_alerts_dedup_and_flapping_alert_is_counted_once() -> None:
    events = [
        example_alert(T0 + 60 * m, s)
        for m, s in [
            (0, "firing"),
            (1, "firing"),
            (2, "resolved"),
            (3, "firing"),
            (4, "resolved"),
            (5, "firing"),
            (6, "resolved"),
            (7, "firing"),
        ]
    ]
    # an incident of resolved alerts resolves confirm_s after the last resolve (at once with
    # confirm_s 0): an alert firing again within it continues the incident
    op = Correlator(nodes=EXAMPLE_NODES, edges=EXAMPLE_EDGES, confirm_s=300)
    _, out = op.process(op.initial_state(), events, now=T0 + 3600)
    incidents = {s.incident.id: s.incident for s in out}
    assert len(incidents) == 1
    assert next(iter(incidents.values())).alerts == ("am-fp-api",)


def test_snapshot_carries_changes_members_and_neighbourhood() -> None:
    events = [
        Change(T0 - 120, "deploy", "db", "2.14.0"),
        example_anomaly("db", T0, 0.99),
        example_alert(T0 + 1, "firing"),
    ]
    _, out = _run(events, now=T0 + 60)
    snap = out[-1]
    assert [c.service for c in snap.changes] == ["db"]
    assert [a.node for a in snap.anomalies] == ["db"]
    assert [a.fingerprint for a in snap.alerts] == ["fp-api"]
    assert {"web", "h1", "api", "db"} <= {n.id for n in snap.nodes}
    assert snap.incident.severity.value == "error"


def test_unknown_node_is_added_flagged_and_live_topology_updates_grouping() -> None:
    events = [
        example_anomaly("ghost", T0, 0.99),
        TopologyUpdate(T0 + 10, TopologyMode.UPSERT, (), (TopologyEdge("ghost", "db"),)),
        example_anomaly("db", T0 + 60, 0.99),
    ]
    state, _ = _run(events, now=T0 + 60)
    assert not state.topology.is_flagged("ghost")
    assert [sorted(r.nodes) for r in state.incidents.values()] == [["db", "ghost"]]


def test_state_is_json_and_bounded() -> None:
    state, _ = _run(example_stream(), now=T0 + 9000)
    text = json.dumps(state.to_dict())
    again = CorrelateState.from_dict(json.loads(text))
    assert again.to_dict() == state.to_dict()
    state, _ = OP.process(state, [], now=T0 + 9000 + 3 * 86400)
    assert state.incidents == {}
    assert state.member_of == {}
    assert state.alerts == {}


def test_from_rules_reads_correlation_and_topology_sections() -> None:
    rules = parse(
        "topology:\n  nodes: [{id: web}, {id: db}]\n  edges: [{from: web, to: db}]\n"
        "correlation:\n  window_s: 5m\n  quiet_s: 10m\n  max_hops: 1\n"
    )
    op = Correlator.from_rules(rules)
    assert (op.window_s, op.quiet_s, op.max_hops) == (300.0, 600.0, 1)
    assert op.initial_state().topology.graph.has_edge("web", "db")


def _siblings_apart_then_both_persist(with_callee: bool) -> list[list[str]]:
    """``a`` and ``b`` call ``x``: ``a`` goes bad, pauses, ``b`` opens its own incident, then
    both persist together (optionally with ``x`` anomalous inside ``b``'s incident)."""
    op = Correlator(
        edges=(TopologyEdge("a", "x"), TopologyEdge("b", "x")),
        max_hops=1,
        confirm_s=0,
        link_s=180,
        merge_after_s=180,
    )
    events = [example_anomaly("a", T0 + dt, 0.99) for dt in range(0, 241, 60)]
    events += [example_anomaly("b", T0 + dt, 0.99) for dt in range(480, 901, 60)]
    events += [example_anomaly("a", T0 + dt, 0.99) for dt in range(600, 901, 60)]
    if with_callee:
        events += [example_anomaly("x", T0 + dt, 0.99) for dt in range(480, 901, 60)]
    state, _ = op.process(op.initial_state(), sorted(events, key=lambda e: e.ts), now=T0 + 900)
    return _groups(state)


def test_callers_of_a_healthy_shared_callee_are_not_merged_by_persisting_together() -> None:
    assert _siblings_apart_then_both_persist(with_callee=False) == [["a"], ["b"]]


def test_callers_of_an_anomalous_shared_callee_merge_once_both_persist() -> None:
    assert _siblings_apart_then_both_persist(with_callee=True) == [["a", "b", "x"]]


def _rate_drop(node: str, ts: float) -> Anomaly:
    return Anomaly(f"an-drop-{node}-{ts:.0f}", ts, AnomalyKind.LOG, node,
                   {"template": "upstream call failed"}, 1.0, Severity.WARNING,
                   detail={"reason": "rate_drop", "count": 0, "expected": 6.0})


def test_a_log_line_that_went_quiet_joins_an_open_incident_but_opens_none() -> None:
    """Fails on main: the error lines of a fault that stopped when it ended (rate_drop)
    opened an incident of their own after the fault's incident had gone quiet."""
    events = [example_anomaly("db", T0, 0.99), _rate_drop("db", T0 + 60)]
    events += [_rate_drop("mail", T0 + 3000 + 60 * i) for i in range(3)]
    state, _ = _run(events, now=T0 + 3200)
    assert sorted(sorted(r.members) for r in state.incidents.values()) == [
        sorted([events[0].id, events[1].id])
    ]
