"""Notifications only on material change; links to the console; labels for receivers."""

from __future__ import annotations

import dataclasses

from connectors.notify.pagerduty import build_event, validate_event
from connectors.notify.slack import build_message, validate_message
from engine.act.planner import ActionPlanner
from engine.act.planner_state import PlannerState
from engine.events import Incident, IncidentStatus, RootCause, Severity
from engine.rules import parse

RULES = """
routing:
  external_url: https://vigil.example.com/
  receivers:
    - {name: pager, type: pagerduty, routing_key_env: PD_KEY}
    - {name: chat, type: slack, webhook_url_env: SLACK_URL}
  route:
    receiver: pager
    group_wait: 30s
    group_interval: 1m
    repeat_interval: 0s
    routes:
      - {receiver: pager, continue: true}
      - {receiver: chat}
"""


def _record(ts: float, causes: tuple[str, ...], status=IncidentStatus.UPDATED,
            severity=Severity.CRITICAL, nodes: tuple[str, ...] = ()) -> Incident:
    root = tuple(RootCause(n, 0.5 / (i + 1), "service") for i, n in enumerate(causes))
    return Incident("inc-1", status, 0.0, ts, severity, f"probable cause {causes[0]}",
                    nodes or causes, root_causes=root, nodes=nodes or causes,
                    labels={"cluster": "eu-1", "namespace": "shop"}, revision=int(ts))


def _run(records: list[Incident], end: float) -> list[tuple[str, str]]:
    op = ActionPlanner.from_rules(parse(RULES, "t.yaml").routing)
    state, seen = op.initial_state(), []
    for record in records:
        state, out = op.process(state, [record], now=record.updated_at)
        seen += out
    state, out = op.process(state, [], now=end)
    return [(a.receiver, str(a.payload["event"])) for a in [*seen, *out]]


def test_a_reshuffle_below_the_top_cause_and_new_nodes_notify_nobody() -> None:
    """Fails on main: each reshuffle of causes 2-3 was sent as an update to every receiver."""
    records = [_record(0.0, ("db", "api", "web"), IncidentStatus.OPEN)]
    records += [_record(100.0 * k, ("db", "web", "api") if k % 2 else ("db", "api", "web"),
                        nodes=("db", "api", "web", f"n{k}")) for k in range(1, 10)]
    said = _run(records, end=2000.0)
    assert said == [("chat", "trigger"), ("pager", "trigger")]


def test_a_new_top_cause_or_severity_is_an_update() -> None:
    records = [
        _record(0.0, ("db", "api"), IncidentStatus.OPEN),
        _record(300.0, ("api", "db")),
        _record(600.0, ("api", "db"), severity=Severity.ERROR),
        _record(900.0, ("api", "db"), IncidentStatus.RESOLVED, severity=Severity.ERROR),
    ]
    said = [e for r, e in _run(records, end=2000.0) if r == "pager"]
    assert said == ["trigger", "update", "update", "resolve"]


def test_actions_link_to_the_console_and_receivers_use_the_incident_labels() -> None:
    op = ActionPlanner.from_rules(parse(RULES, "t.yaml").routing)
    state, _ = op.process(op.initial_state(), [_record(0.0, ("db",), IncidentStatus.OPEN)],
                          now=0.0)
    _, out = op.process(state, [], now=60.0)
    pager = next(a for a in out if a.receiver == "pager")
    assert pager.payload["link"] == "https://vigil.example.com/#/incident/inc-1"
    event = build_event(pager, "k" * 32)
    assert validate_event(event) == []
    assert event["links"] == [{"href": pager.payload["link"], "text": "Vigil incident"}]
    assert (event["payload"]["group"], event["payload"]["component"]) == ("eu-1", "db")
    assert event["payload"]["class"] == "vigil-service-incident"
    chat = next(a for a in out if a.receiver == "chat")
    message = build_message(chat)
    assert validate_message(message) == []
    text = str(message["blocks"])
    assert "*Cluster*\\neu-1" in text
    assert "*Namespace*\\nshop" in text
    assert "<https://vigil.example.com/#/incident/inc-1|Open in Vigil>" in text


def test_without_external_url_there_is_no_link() -> None:
    op = ActionPlanner.from_rules(parse(RULES.replace(
        "  external_url: https://vigil.example.com/\n", ""), "t.yaml").routing)
    state, _ = op.process(op.initial_state(), [_record(0.0, ("db",), IncidentStatus.OPEN)],
                          now=0.0)
    _, out = op.process(state, [], now=60.0)
    assert out
    assert all("link" not in a.payload for a in out)


def test_version_1_digests_are_cut_to_the_top_cause() -> None:
    op = ActionPlanner.from_rules(parse(RULES, "t.yaml").routing)
    state, _ = op.process(op.initial_state(), [_record(0.0, ("db", "api"), IncidentStatus.OPEN)],
                          now=60.0)
    old = state.to_dict()
    old["version"] = 1
    for notice in old["notices"].values():
        notice["sent_digest"] = "critical|db,api"
    restored = PlannerState.from_dict(old)
    assert {n.sent_digest for n in restored.notices.values()} == {"critical|db"}
    assert restored.version == 2
    assert dataclasses.asdict(restored)["version"] == 2
