from __future__ import annotations

import dataclasses
import json

from engine.act.planner import ActionPlanner
from engine.correlate.grouping import CorrelateState, Correlator
from engine.events import Alert, AlertStatus, IncidentStatus, Severity
from engine.rank.causes import CauseRanker
from engine.rules.routing import RoutingRules
from engine.testing import T0
from testing.examples import EXAMPLE_EDGES, EXAMPLE_NODES, example_anomaly

OP = Correlator(nodes=EXAMPLE_NODES, edges=EXAMPLE_EDGES, window_s=600, quiet_s=900, confirm_s=300)


def _alert(ts: float, status: str, severity: Severity, node: str = "mail") -> Alert:
    labels = {"service": node, "cluster": "eu-1"}
    return Alert(ts, "DiskSpaceLow", AlertStatus(status), severity, f"fp-{node}", labels)


def _statuses(out) -> list[tuple[str, tuple[str, ...], dict[str, str]]]:
    return [(s.incident.status.value, s.incident.nodes, dict(s.incident.labels)) for s in out]


def test_a_lone_anomaly_is_held_then_reported_once_resolved_as_noise() -> None:
    state, out = OP.process(OP.initial_state(), [example_anomaly("mail", T0, 0.999)], now=T0)
    assert out == []
    assert len(state.incidents) == 1  # held as a candidate, not dropped
    state, out = OP.process(state, [], now=T0 + 901)
    assert _statuses(out) == [("resolved", ("mail",), {"noise": "true"})]
    assert out[0].incident.alerts == (example_anomaly("mail", T0, 0.999).id,)
    assert out[0].incident.revision == 1


def test_two_related_nodes_with_two_members_each_open_at_once() -> None:
    events = [example_anomaly(n, T0 + dt, 0.999) for dt in (0, 60) for n in ("db", "api")]
    _, out = OP.process(OP.initial_state(), events, now=T0 + 60)
    assert _statuses(out) == [("open", ("api", "db"), {})]
    assert len(out[0].incident.alerts) == 4


def test_a_problem_on_one_node_opens_once_it_lasts_confirm_s() -> None:
    events = [example_anomaly("db", T0 + 60 * m, 0.999) for m in range(6)]
    state, out = OP.process(OP.initial_state(), events[:5], now=T0 + 240)
    assert out == []
    _, out = OP.process(state, events[5:], now=T0 + 300)
    assert _statuses(out) == [("open", ("db",), {})]
    assert out[0].incident.opened_at == T0  # the hold loses no member nor the onset
    assert len(out[0].incident.alerts) == 6


def test_an_error_alert_still_firing_after_confirm_s_opens_an_incident() -> None:
    state, out = OP.process(
        OP.initial_state(), [_alert(T0, "firing", Severity.ERROR)], now=T0 + 299
    )
    assert out == []
    _, out = OP.process(state, [], now=T0 + 300)
    assert _statuses(out) == [("open", ("mail",), {"cluster": "eu-1"})]


def test_a_transient_error_alert_never_opens_and_a_lasting_warning_does() -> None:
    events = [
        _alert(T0, "firing", Severity.CRITICAL),
        _alert(T0 + 120, "resolved", Severity.CRITICAL),
        _alert(T0 + 3000, "firing", Severity.WARNING, node="web"),
    ]
    _, out = OP.process(OP.initial_state(), events, now=T0 + 10_000)
    noise = [s for s in out if s.incident.labels.get("noise") == "true"]
    assert [(s.incident.status.value, s.incident.alerts) for s in noise] == [
        ("resolved", ("am-fp-mail",))
    ]
    # a warning that keeps firing is an incident (issue 17): open, not resolved noise
    lasting = [s for s in out if s not in noise]
    assert _statuses(lasting) == [("open", ("web",), {"cluster": "eu-1"})]


def test_noise_records_page_no_one() -> None:
    _, out = OP.process(OP.initial_state(), [example_anomaly("mail", T0, 0.999)], now=T0 + 10_000)
    ranker, planner = CauseRanker(), ActionPlanner.from_rules(RoutingRules())
    _, incidents = ranker.process(ranker.initial_state(), out, now=T0 + 10_000)
    assert [i.status for i in incidents] == [IncidentStatus.RESOLVED]
    _, actions = planner.process(planner.initial_state(), incidents, now=T0 + 20_000)
    assert actions == []


def test_an_opened_incident_keeps_its_id_when_an_older_candidate_merges_in() -> None:
    op = dataclasses.replace(OP, merge_after_s=0)
    events = [
        example_anomaly("mail", T0 + 650, 0.999),  # older, unconfirmed candidate (web -> mail)
        *(example_anomaly(n, T0 + 700 + dt, 0.999) for dt in (0, 60) for n in ("db", "api")),
    ]
    state, out = op.process(op.initial_state(), events, now=T0 + 760)
    [opened] = out
    state, out = op.process(state, [example_anomaly("web", T0 + 800, 0.999)], now=T0 + 800)
    assert _statuses(out) == [("updated", ("api", "db", "mail", "web"), {})]
    assert out[0].incident.id == opened.incident.id


def test_state_with_held_candidates_round_trips_and_v1_state_upgrades() -> None:
    state, _ = OP.process(OP.initial_state(), [example_anomaly("mail", T0, 0.999)], now=T0)
    data = json.loads(json.dumps(state.to_dict()))
    assert CorrelateState.from_dict(data).to_dict() == data
    v1 = {**data, "version": 1}
    v1["incidents"] = {
        k: {f: v for f, v in r.items()
            if f not in ("confirmed", "spans", "held_ts", "firing", "settled_at")}
        for k, r in data["incidents"].items()
    }
    upgraded = CorrelateState.from_dict(v1)
    assert upgraded.version == 5
    assert all(r.confirmed for r in upgraded.incidents.values())


def test_version_4_state_rebuilds_the_firing_alert_index() -> None:
    state, _ = OP.process(
        OP.initial_state(), [_alert(T0, "firing", Severity.WARNING, node="web")], now=T0
    )
    data = json.loads(json.dumps(state.to_dict()))
    v4 = {**data, "version": 4}
    v4["incidents"] = {
        k: {f: v for f, v in r.items() if f not in ("firing", "settled_at")}
        for k, r in data["incidents"].items()
    }
    upgraded = CorrelateState.from_dict(v4)
    assert upgraded.to_dict() == data
    assert [r.firing for r in upgraded.incidents.values()] == [{"web": {"fp-web": T0}}]
