"""One codec per event type: every form an event is written in reads back to an equal event,
and the forms that carry more (labels, payload) are the wire record plus those fields."""

from __future__ import annotations

import orjson

from engine.events import (
    Action,
    ActionStatus,
    Alert,
    AlertStatus,
    Anomaly,
    AnomalyKind,
    Change,
    Incident,
    IncidentStatus,
    RetrainRequest,
    RootCause,
    Severity,
    TopologyEdge,
    TopologyMode,
    TopologyNode,
    TopologyUpdate,
)
from engine.testing import T0


def _json(data: object) -> dict[str, object]:
    out: dict[str, object] = orjson.loads(orjson.dumps(data))
    return out


ANOMALY = Anomaly("an-1", T0, AnomalyKind.LOG, "api", {"name": "error_ratio"}, 0.99,
                  Severity.ERROR, {"z": 4.0}, {"service": "api", "cluster": "eu-1"})
ACTION = Action("act-1", T0 + 30, "inc-1", "pd", "pagerduty", "inc-1", {"event": "trigger"},
                ActionStatus.FAILED, 3, "permanent: HTTP 400")
INCIDENT = Incident("inc-1", IncidentStatus.UPDATED, T0, T0 + 60, Severity.CRITICAL, "db slow",
                    ("an-1", "am-fp"), (RootCause("db", 0.9, "datastore", ("onset",)),),
                    ("db", "api"), {"cluster": "eu-1"}, 2)


def test_anomaly_wire_omits_labels_and_internal_form_keeps_them() -> None:
    wire, full = ANOMALY.to_wire(), ANOMALY.to_wire(labels=True)
    assert "labels" not in wire
    assert full == {**wire, "labels": {"service": "api", "cluster": "eu-1"}}
    assert Anomaly.from_wire(_json(full)) == ANOMALY
    assert Anomaly.from_wire(_json(wire)).labels == {}


def test_action_record_with_payload_round_trips() -> None:
    full = ACTION.to_wire(payload=True)
    assert list(full) == [*ACTION.to_wire(), "payload"]
    assert Action.from_wire(_json(full)) == ACTION
    assert Action.from_wire(_json(ACTION.to_wire())).payload == {}


def test_action_ts_keeps_its_json_number_type() -> None:
    """Re-encoding a decoded record gives the same bytes (an int ts is not made a float)."""
    raw = orjson.dumps({**ACTION.to_wire(payload=True), "ts": 5})
    assert orjson.dumps(Action.from_wire(orjson.loads(raw)).to_wire(payload=True)) == raw


def test_incident_round_trips() -> None:
    assert Incident.from_wire(_json(INCIDENT.to_wire())) == INCIDENT


def test_context_events_round_trip_through_their_plain_form() -> None:
    alert = Alert(T0, "HighErrorRate", AlertStatus.FIRING, Severity.ERROR, "fp",
                  {"service": "api"}, {"summary": "errors"}, T0 - 60, None, "http://x")
    change = Change(T0, "deploy", "db", "2.14.0", "rollout", {"cluster": "eu-1"})
    update = TopologyUpdate(T0, TopologyMode.UPSERT, (TopologyNode("db", "datastore"),),
                            (TopologyEdge("api", "db"),))
    assert Alert.from_dict(_json(alert.to_dict())) == alert
    assert Change.from_dict(_json(change.to_dict())) == change
    assert TopologyUpdate.from_dict(_json(update.to_dict())) == update


def test_retrain_request_round_trips() -> None:
    request = RetrainRequest("rt-1", "fraud", "data_drift", {"psi": 0.3}, T0, "fraud|drift",
                             "v3", "inc-1")
    assert RetrainRequest.from_wire(_json(request.to_wire())) == request
