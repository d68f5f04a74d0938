"""Incidents resolve when their members are back inside their pre-incident band (issue 14)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from engine.correlate.grouping import CorrelateState, Correlator
from engine.correlate.recovery import RecoveryState, RecoveryWatch, is_hold
from engine.events import (
    Anomaly,
    AnomalyKind,
    Incident,
    IncidentStatus,
    MetricPoint,
    Severity,
    TopologyEdge,
    TopologyMode,
    TopologyNode,
    TopologyUpdate,
)
from engine.pipeline import Pipeline
from engine.rules import RuleSet
from engine.testing import T0
from testing.examples import EXAMPLE_EDGES, EXAMPLE_NODES, example_anomaly

OP = Correlator(nodes=EXAMPLE_NODES, edges=EXAMPLE_EDGES, quiet_s=900, confirm_s=0)


def _hold(node: str, ts: float) -> Anomaly:
    return Anomaly(f"an-hold-{node}-{ts}", ts, AnomalyKind.METRIC, node,
                   {"name": "errors", "labels": {"service": node}}, 0.0, Severity.INFO,
                   {"outside_band": True, "value": 9.0, "band": [0.0, 1.0], "since": T0})


def _assert_db_resolves_only_after(events: list[Any], end: float) -> tuple[Pipeline, list[Any]]:
    """Run the whole pipeline: db's incident opens and resolves, never before ``end``."""
    pipeline = Pipeline.from_rules(RuleSet())
    _, out = pipeline.advance(pipeline.initial_state(), events, now=events[-1].ts)
    incidents = [o for o in out if isinstance(o, Incident) and "db" in o.nodes]
    assert incidents, "the shift must open an incident"
    resolved = [i for i in incidents if i.status is IncidentStatus.RESOLVED]
    assert resolved, "it resolves once the level is back"
    assert all(i.updated_at >= end for i in resolved)
    return pipeline, out


def test_a_hold_keeps_the_incident_open_and_is_no_member() -> None:
    events = [example_anomaly("db", T0, 0.99), example_anomaly("web", T0 + 60, 0.99)]
    events += [_hold("db", T0 + 300 * k) for k in range(1, 8)]  # still bad until T0+2100
    state, out = OP.process(OP.initial_state(), events, now=T0 + 2500)
    [record] = state.incidents.values()
    assert record.is_open
    assert len(record.members) == 2
    state, out = OP.process(state, [], now=T0 + 3100)
    assert [s.incident.status for s in out] == [IncidentStatus.RESOLVED]
    assert out[0].incident.updated_at == T0 + 2100 + 900


def test_a_hold_on_a_node_in_no_incident_opens_nothing() -> None:
    state, out = OP.process(OP.initial_state(), [_hold("mail", T0)], now=T0 + 60)
    assert out == []
    assert state.incidents == {}


def test_version_2_state_restores_with_no_holds() -> None:
    state, _ = OP.process(OP.initial_state(), [example_anomaly("db", T0, 0.99)], now=T0)
    old = state.to_dict()
    old["version"] = 2
    for record in old["incidents"].values():
        del record["held_ts"], record["firing"], record["settled_at"]
    restored = CorrelateState.from_dict(old)
    assert [r.held_ts for r in restored.incidents.values()] == [None]
    assert restored.to_dict()["version"] == 5


def test_a_watch_ends_after_max_watch_s() -> None:
    op = RecoveryWatch(every_s=60.0, max_watch_s=600.0)
    onset = Anomaly("an-0", 0.0, AnomalyKind.METRIC, "api", {"name": "api", "labels":
                    {"service": "api"}}, 0.9, Severity.ERROR, {"band": [0.0, 1.0]})
    points = [MetricPoint(60.0 * i, "api", 5.0, {"service": "api"}) for i in range(20)]
    state, out = op.process(op.initial_state(), [*points, onset], now=1200.0)
    assert [a.ts for a in out] == [60.0 * i for i in range(1, 11)]
    assert state.watches == {}
    assert RecoveryState.from_dict(state.to_dict()) == state


def _shift_stream(shift_from: float, shift_to: float, web_to: float | None = None) -> list:
    """web -> db; both series noisy around 1.0 for 4 h, x40 on both from shift_from to shift_to
    (on web until ``web_to`` when given)."""
    topo = TopologyUpdate(T0, TopologyMode.REPLACE, (TopologyNode("web"), TopologyNode("db")),
                          (TopologyEdge("web", "db"),))
    events: list = [topo]
    for i in range(int((shift_to + 3600 - T0) / 60)):
        ts = T0 + 60 * i
        for k, node in enumerate(("db", "web")):
            base = 1.0 + 0.1 * math.sin(i * 0.7 + k) + 0.05 * ((i * 37 + k) % 7) / 7
            to = web_to if node == "web" and web_to is not None else shift_to
            value = base * 40 if shift_from <= ts < to else base
            events.append(MetricPoint(ts, "errors", value, {"service": node}))
    return events


def test_an_incident_stays_open_while_its_members_are_outside_their_band() -> None:
    """Fails before the recovery watch: the detector adapts to the new level within minutes
    and the incident resolved ``quiet_s`` later, during the outage."""
    start, end = T0 + 4 * 3600, T0 + 4 * 3600 + 5400
    events = _shift_stream(start, end)
    pipeline, out = _assert_db_resolves_only_after(events, end)
    assert not [o for o in out if isinstance(o, Anomaly) and is_hold(o)], "holds are internal"
    _, found = pipeline.detect.process(pipeline.detect.initial_state(), events, now=events[-1].ts)
    holds = [o for o in found if isinstance(o, Anomaly) and is_hold(o)]
    assert holds, "the detect stage hands holds to the incident stage"
    assert max(h.ts for h in holds) < end + 600


def test_an_incident_carries_the_labels_its_members_agree_on() -> None:
    """Fails on main: incidents carried no labels, so PagerDuty's group was always 'vigil'."""

    def an(node: str, ts: float, cluster: str) -> Anomaly:
        base = example_anomaly(node, ts, 0.99)
        labels = {"service": node, "cluster": cluster, "namespace": f"ns-{node}"}
        return dataclasses.replace(base, labels=labels)

    events = [an("db", T0, "eu-1"), an("web", T0 + 60, "eu-1")]
    _, out = OP.process(OP.initial_state(), events, now=T0 + 120)
    assert out[-1].incident.labels == {"cluster": "eu-1"}  # namespaces disagree: left out



def _onset(ts: float) -> Anomaly:
    return Anomaly("an-0", ts, AnomalyKind.METRIC, "api", {"name": "api", "labels":
                   {"service": "api"}}, 0.9, Severity.ERROR, {"band": [0.0, 1.0]})


def test_a_series_that_stops_reporting_outside_its_band_keeps_holding() -> None:
    """Fails on main: a watched series gone silent (its exporter down in the outage) emitted
    no holds, so the incident resolved ``quiet_s`` later although nothing said it was back."""
    op = RecoveryWatch(every_s=300.0)
    points = [MetricPoint(60.0 * i, "api", 5.0, {"service": "api"}) for i in range(3)]
    state, out = op.process(op.initial_state(), [*points, _onset(0.0)], now=120.0)
    assert out == []
    held = []
    for minute in range(3, 40):  # silent from 120 s on
        state, out = op.process(state, [], now=60.0 * minute)
        held.extend(out)
    assert [h.ts for h in held] == [420.0, 720.0, 1020.0, 1320.0, 1620.0, 1920.0, 2220.0]
    assert all(is_hold(h) and h.detail["silent_since"] == 120.0 for h in held)
    assert held[0].subject == {"name": "api", "labels": {"service": "api"}}
    back = [MetricPoint(2400.0 + 60.0 * i, "api", 0.5, {"service": "api"}) for i in range(3)]
    state, out = op.process(state, back, now=2520.0)
    assert out == []
    assert state.watches == {}, "back inside the band when it reports again"


def test_a_series_silent_for_max_silent_s_is_no_longer_watched() -> None:
    op = RecoveryWatch(every_s=300.0, max_silent_s=900.0)
    points = [MetricPoint(60.0 * i, "api", 5.0, {"service": "api"}) for i in range(3)]
    state, _ = op.process(op.initial_state(), [*points, _onset(0.0)], now=120.0)
    held = [h for m in range(3, 60) for h in op.process(state, [], now=60.0 * m)[1]]
    assert [h.ts for h in held] == [420.0, 720.0, 1020.0]
    assert state.watches == {}


def test_a_series_silent_after_it_came_back_inside_its_band_does_not_hold() -> None:
    op = RecoveryWatch(every_s=300.0)
    values = [5.0, 5.0, 0.5]
    points = [MetricPoint(60.0 * i, "api", v, {"service": "api"}) for i, v in enumerate(values)]
    state, _ = op.process(op.initial_state(), [*points, _onset(0.0)], now=120.0)
    held = [h for m in range(3, 40) for h in op.process(state, [], now=60.0 * m)[1]]
    assert held == []


def test_version_1_recovery_state_restores_and_holds_no_silent_series() -> None:
    op = RecoveryWatch(every_s=300.0)
    points = [MetricPoint(60.0 * i, "api", 5.0, {"service": "api"}) for i in range(3)]
    state, _ = op.process(op.initial_state(), [*points, _onset(0.0)], now=120.0)
    old = state.to_dict()
    old["version"] = 1
    for watch in old["watches"].values():
        del watch["subject"], watch["last_ts"], watch["last_value"]
    restored = RecoveryState.from_dict(old)
    assert restored.to_dict()["version"] == 2
    [watch] = restored.watches.values()
    assert (watch.band, watch.inside, watch.subject) == ((0.0, 1.0), 0, None)
    assert op.process(restored, [], now=3000.0)[1] == []
    later = [MetricPoint(3000.0, "api", 5.0, {"service": "api"})]
    assert [is_hold(h) for h in op.process(restored, later, now=3000.0)[1]] == [True]


def test_an_incident_stays_open_while_a_member_series_is_silent() -> None:
    """Fails on main: db's series stops reporting 20 minutes into the outage and comes back
    normal at its end 40 minutes later (web recovers after 10 minutes); the incident resolved
    during the silence."""
    start, end = T0 + 4 * 3600, T0 + 4 * 3600 + 3600
    events = [e for e in _shift_stream(start, end, web_to=start + 600)
              if not (isinstance(e, MetricPoint) and e.labels["service"] == "db"
                      and start + 1200 <= e.ts < end)]
    _assert_db_resolves_only_after(events, end)
