"""Alerts: the single form and unmodified Alertmanager webhook payloads."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from engine.events import Alert, AlertStatus, InputKind, Rejected, Severity
from engine.ingest.alertmanager import fingerprint_of
from engine.ingest.decode import Origin, decode_object, decode_record

A = InputKind.ALERTS
T = 1_764_115_200.0
ORIGIN = Origin("alerts", 0, 1, T)


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


WEBHOOK = {
    "version": "4",
    "groupKey": '{}:{alertname="HighErrorRate"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "vigil",
    "groupLabels": {"alertname": "HighErrorRate"},
    "commonLabels": {"alertname": "HighErrorRate"},
    "commonAnnotations": {},
    "externalURL": "http://alertmanager:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "HighErrorRate", "service": "payments", "severity": "critical"},
            "annotations": {"summary": "5xx > 5%"},
            "startsAt": "2025-11-26T03:59:49.123456789Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph?g0.expr=x",
            "fingerprint": "a1b2c3d4e5f60718",
        },
        {
            "status": "resolved",
            "labels": {"alertname": "HighErrorRate", "service": "cart", "severity": "page"},
            "annotations": {},
            "startsAt": "2025-11-26T03:00:00Z",
            "endsAt": "2025-11-26T03:30:00Z",
            "generatorURL": "",
            "fingerprint": "0f0e0d0c0b0a0908",
        },
    ],
}


def test_webhook_payload_yields_one_alert_per_element() -> None:
    out = decode_record(A, orjson.dumps(WEBHOOK), ORIGIN)
    assert out == [
        Alert(
            ts=at("2025-11-26T03:59:49") + 0.123456789,
            name="HighErrorRate",
            status=AlertStatus.FIRING,
            severity=Severity.CRITICAL,
            fingerprint="a1b2c3d4e5f60718",
            labels={"alertname": "HighErrorRate", "service": "payments", "severity": "critical"},
            annotations={"summary": "5xx > 5%"},
            starts_at=at("2025-11-26T03:59:49") + 0.123456789,
            ends_at=None,
            generator_url="http://prometheus:9090/graph?g0.expr=x",
        ),
        Alert(
            ts=at("2025-11-26T03:30:00"),  # resolved: its event time is endsAt
            name="HighErrorRate",
            status=AlertStatus.RESOLVED,
            severity=Severity.WARNING,  # unknown labels.severity: the default
            fingerprint="0f0e0d0c0b0a0908",
            labels={"alertname": "HighErrorRate", "service": "cart", "severity": "page"},
            annotations={},
            starts_at=at("2025-11-26T03:00:00"),
            ends_at=at("2025-11-26T03:30:00"),
            generator_url=None,
        ),
    ]


def test_bad_webhook_element_rejects_only_itself() -> None:
    bad = {"status": "firing", "labels": {"alertname": "X"}, "startsAt": "soon"}
    payload = WEBHOOK | {"alerts": [WEBHOOK["alerts"][0], bad, "junk"]}  # type: ignore[index]
    out = decode_object(A, payload, ORIGIN)
    assert [type(item).__name__ for item in out] == ["Alert", "Rejected", "Rejected"]
    assert out[1] == Rejected(
        "alerts",
        "alerts[1].startsAt: not RFC 3339 or epoch seconds (got string 'soon')",
        orjson.dumps(bad),
        0,
        1,
    )
    assert isinstance(out[2], Rejected)
    assert out[2].error == "alerts[2]: not a JSON object (got string)"


def test_webhook_alerts_must_be_an_array() -> None:
    out = decode_object(A, {"receiver": "r", "alerts": {"a": 1}}, ORIGIN, raw=b"raw")
    assert out == [
        Rejected("alerts", "alerts: must be an array of alerts (got object)", b"raw", 0, 1)
    ]


def test_single_alert_from_the_spec_example() -> None:
    raw = (
        b'{"ts": 1764115260, "name": "HighErrorRate", "status": "firing", "severity": "critical",'
        b' "labels": {"service": "payments", "cluster": "eu-1"},'
        b' "annotations": {"summary": "5xx > 5%"}, "fingerprint": "a1b2c3"}'
    )
    assert decode_record(A, raw, ORIGIN) == [
        Alert(
            ts=1_764_115_260.0,
            name="HighErrorRate",
            status=AlertStatus.FIRING,
            severity=Severity.CRITICAL,
            fingerprint="a1b2c3",
            labels={"service": "payments", "cluster": "eu-1"},
            annotations={"summary": "5xx > 5%"},
        )
    ]


def test_severity_from_labels_and_default() -> None:
    [from_labels] = decode_object(A, {"name": "X", "labels": {"severity": "Info"}}, ORIGIN)
    [default] = decode_object(A, {"name": "X"}, ORIGIN)
    assert isinstance(from_labels, Alert)
    assert isinstance(default, Alert)
    assert (from_labels.severity, default.severity) == (Severity.INFO, Severity.WARNING)
    assert default.status is AlertStatus.FIRING
    assert default.ts == T


def test_derived_fingerprint_is_alertmanagers() -> None:
    # Expected value from prometheus/common model/signature_test.go (LabelsToSignature).
    labels = {"name": "garland, briggs", "fear": "love is not enough"}
    assert fingerprint_of(labels) == f"{5799056148416392346:016x}"


def test_derived_fingerprint_is_stable_and_includes_the_name() -> None:
    one = decode_object(A, {"name": "X", "labels": {"a": "1", "b": "2"}}, ORIGIN)
    two = decode_object(A, {"labels": {"b": "2", "alertname": "X", "a": "1"}}, ORIGIN)
    other = decode_object(A, {"name": "Y", "labels": {"a": "1", "b": "2"}}, ORIGIN)
    prints = [e.fingerprint for e in one + two + other if isinstance(e, Alert)]
    assert prints[0] == prints[1] != prints[2]
    assert prints[0] == fingerprint_of({"alertname": "X", "a": "1", "b": "2"})


@pytest.mark.parametrize(
    ("alert", "reason"),
    [
        ({"labels": {"service": "p"}}, "name: required (or labels.alertname)"),
        ({"name": "X", "status": "pending"},
         "status: must be firing or resolved (got string 'pending')"),
        ({"name": "X", "severity": "high"},
         "severity: must be one of critical, error, warning, info (got string 'high')"),
        ({"name": "X", "fingerprint": 12},
         "fingerprint: must be a non-empty string (got number 12)"),
        ({"name": "X", "annotations": {"summary": 1}},
         "annotations: must be a map of strings (annotations.summary is number)"),
        ({"name": "X", "endsAt": 5e11},
         "endsAt: epoch seconds out of range [0, 1e11) (got number 500000000000.0; milliseconds?)"),
    ],
)  # fmt: skip
def test_invalid_single_alert_names_the_key(alert: dict[str, object], reason: str) -> None:
    out = decode_object(A, alert, ORIGIN)
    assert [r.error for r in out if isinstance(r, Rejected)] == [reason]


def _element(**fields: object) -> dict[str, object]:
    return {"labels": {"alertname": "DbDown", "service": "db"},
            "startsAt": "2025-11-26T00:00:00Z", **fields}


def test_a_re_send_s_event_time_is_its_arrival_never_before_starts_at() -> None:
    starts = at("2025-11-26T00:00:00")
    payload = {"status": "firing", "alerts": [_element(status="firing")]}
    [resent] = decode_object(A, payload, Origin("alerts", timestamp=starts + 300))
    [early] = decode_object(A, payload, Origin("alerts", timestamp=starts - 60))  # skewed
    [unknown] = decode_object(A, payload, Origin("alerts"))
    assert isinstance(resent, Alert)
    assert isinstance(early, Alert)
    assert isinstance(unknown, Alert)
    assert (resent.ts, resent.starts_at) == (starts + 300, starts)
    assert early.ts == starts
    assert unknown.ts == starts


def test_a_recorded_webhook_line_s_ts_is_the_arrival_of_its_alerts() -> None:
    starts = at("2025-11-26T00:00:00")
    payload = {"status": "firing", "ts": starts + 600, "alerts": [_element()]}
    [alert] = decode_object(A, payload, Origin("alerts", timestamp=starts + 1))
    assert isinstance(alert, Alert)
    assert alert.ts == starts + 600
    [bad] = decode_object(A, {**payload, "ts": "soon"}, ORIGIN)
    assert isinstance(bad, Rejected)
    assert bad.error.startswith("ts:")


def test_without_status_an_alert_whose_ends_at_passed_is_resolved() -> None:
    starts = at("2025-11-26T00:00:00")
    received = Origin("alerts", timestamp=starts + 300)
    [past] = decode_object(A, _element(endsAt="2025-11-26T00:04:00Z"), received)
    [ahead] = decode_object(A, _element(endsAt="2025-11-26T00:09:00Z"), received)
    assert isinstance(past, Alert)
    assert isinstance(ahead, Alert)
    assert (past.status, past.ts) == (AlertStatus.RESOLVED, starts + 240)
    assert (ahead.status, ahead.ts) == (AlertStatus.FIRING, starts + 300)


def test_severity_none_is_info() -> None:
    element = {"labels": {"alertname": "Watchdog", "severity": "none"}, "startsAt": T}
    [alert] = decode_object(A, element, ORIGIN)
    assert isinstance(alert, Alert)
    assert alert.severity is Severity.INFO
