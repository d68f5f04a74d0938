"""Receiver bodies follow the documented rules of PagerDuty Events v2 and Slack Block Kit."""

from __future__ import annotations

from connectors.notify.pagerduty import build_event, validate_event
from connectors.notify.runbook import render_params
from connectors.notify.slack import build_message, validate_message
from engine.act.planner import ActionPlanner, _example_batch
from engine.events import Action


def actions() -> list[Action]:
    op = ActionPlanner()
    _, out = op.process(op.initial_state(), _example_batch(), now=0.0)
    return out


def test_pagerduty_events_are_valid_and_resolve_by_incident_id() -> None:
    events = [build_event(a, "k" * 32) for a in actions()]
    assert [validate_event(e) for e in events] == [[], [], []]
    assert [e["event_action"] for e in events] == ["trigger", "trigger", "resolve"]
    assert {e["dedup_key"] for e in events} == {"inc-a"}


def test_pagerduty_validator_rejects_what_pagerduty_rejects() -> None:
    event = build_event(actions()[0], "k" * 32)
    event["payload"] = {**event["payload"], "summary": "x" * 1025, "severity": "fatal"}
    assert validate_event(event) == [
        "payload.summary: at most 1024 characters (got 1025)",
        "payload.severity: must be one of critical, error, warning, info",
    ]


def test_slack_message_has_summary_severity_and_causes_within_limits() -> None:
    message = build_message(actions()[0])
    assert validate_message(message) == []
    text = str(message["blocks"])
    assert "critical" in text
    assert "Probable root causes" in text
    assert "db" in text


def test_runbook_templates_fill_the_body_only() -> None:
    a = actions()[0]
    assert render_params({"deployment": "${node}", "u": "${incident}"}, a) == {
        "deployment": "db",
        "u": "inc-a",
    }
