"""Alerts: the single-alert form and unmodified Prometheus Alertmanager webhook payloads (v4).

An Alertmanager payload (an object with an ``alerts`` array) yields one ``Alert`` per element;
a bad element is rejected alone, with its reason under ``alerts[i].``. The name is
``labels.alertname`` (or ``name`` in the single form), the severity the ``severity`` field or
``labels.severity`` (default warning; ``none`` is info), and the fingerprint the given one
or, failing that, the one Alertmanager itself computes from the labels (FNV-1a 64 of the
sorted label pairs, as in prometheus/common ``LabelSet.Fingerprint``), so both forms name
the same alert alike.
"""

from __future__ import annotations

from typing import Final

from engine.events import Alert, AlertStatus, Severity
from engine.ingest.errors import FieldError
from engine.ingest.timestamps import read_optional_time, read_ts
from engine.ingest.values import describe, json_type, read_labels, read_name, read_text

_FNV_OFFSET: Final = 14695981039346656037
_FNV_PRIME: Final = 1099511628211
_MASK_64: Final = (1 << 64) - 1
_SEVERITIES: Final[dict[str, Severity]] = {
    **{severity.value: severity for severity in Severity},
    "warn": Severity.WARNING,
    "crit": Severity.CRITICAL,
    "none": Severity.INFO,  # kube-prometheus' Watchdog and InfoInhibitor
}
_STATUSES: Final[dict[str, AlertStatus]] = {status.value: status for status in AlertStatus}


def fingerprint_of(labels: dict[str, str]) -> str:
    """Alertmanager's fingerprint of a label set: 16 hex digits, independent of key order.

    >>> fingerprint_of({"alertname": "A", "service": "b"}) == fingerprint_of(
    ...     {"service": "b", "alertname": "A"})
    True
    >>> fingerprint_of({})
    'cbf29ce484222325'
    """
    digest = _FNV_OFFSET
    for name in sorted(labels):
        for part in (name, labels[name]):
            for byte in part.encode("utf-8", "surrogatepass") + b"\xff":
                digest = ((digest ^ byte) * _FNV_PRIME) & _MASK_64
    return f"{digest:016x}"


def is_webhook(obj: dict[str, object]) -> bool:
    """Whether an alerts record is an Alertmanager webhook payload rather than a single alert."""
    return "alerts" in obj


def webhook_elements(payload: dict[str, object]) -> list[object]:
    """The ``alerts`` array of an Alertmanager payload (each element is decoded on its own)."""
    elements = payload.get("alerts")
    if not isinstance(elements, list):
        raise FieldError(f"alerts: must be an array of alerts (got {json_type(elements)})")
    return elements


def _read_severity(obj: dict[str, object], labels: dict[str, str]) -> Severity:
    value = obj.get("severity")
    if value is None:
        # labels are free-form in other tools: an unknown labels.severity means the default.
        return _SEVERITIES.get(labels.get("severity", "").strip().lower(), Severity.WARNING)
    severity = _SEVERITIES.get(value.strip().lower()) if isinstance(value, str) else None
    if severity is None:
        raise FieldError(
            f"severity: must be one of critical, error, warning, info (got {describe(value)})"
        )
    return severity


def _read_status(
    obj: dict[str, object], default: object, ends_at: float | None, sent: float | None
) -> AlertStatus:
    """``status`` (the element's, else the payload's); without one, as Alertmanager's v2 API
    reads an alert: resolved once its ``endsAt`` is not after the notification's time (when
    that is unknown, whenever ``endsAt`` is set), else firing."""
    value = obj.get("status", default)
    if value is None:
        if ends_at is not None and (sent is None or ends_at <= sent):
            return AlertStatus.RESOLVED
        return AlertStatus.FIRING
    status = _STATUSES.get(value.strip().lower()) if isinstance(value, str) else None
    if status is None:
        raise FieldError(f"status: must be firing or resolved (got {describe(value)})")
    return status


def _read_name(obj: dict[str, object], labels: dict[str, str]) -> str:
    if obj.get("name") is not None:
        return read_name(obj, "name")
    alertname = labels.get("alertname")
    if not alertname:
        raise FieldError("name: required (or labels.alertname)")
    return alertname


def _read_fingerprint(obj: dict[str, object], name: str, labels: dict[str, str]) -> str:
    value = obj.get("fingerprint")
    if value is None:
        return fingerprint_of(labels if "alertname" in labels else {**labels, "alertname": name})
    if isinstance(value, str) and value:
        return str(value)
    raise FieldError(f"fingerprint: must be a non-empty string (got {describe(value)})")


def decode_alert(
    obj: dict[str, object], default_ts: float | None, default_status: object = None
) -> Alert:
    """One alert: the single form, or one element of a webhook payload (``default_status`` is
    the payload's ``status``; ``default_ts`` is when the notification was received: the Kafka
    record time, the HTTP receive time, a replay line's ``ts``).

    ``ts`` is the time of this notification: ``ts`` if given, else ``endsAt`` once resolved,
    else when it was received but never before ``startsAt`` (a re-send keeps its ``startsAt``:
    its arrival is what says the alert still fires), else ``startsAt``.

    >>> a = decode_alert({"status": "firing", "labels": {"alertname": "Down", "severity": "page"},
    ...                   "startsAt": "2025-11-26T00:00:00Z"}, None)
    >>> a.name, a.severity, a.ts, a.ends_at
    ('Down', <Severity.WARNING: 'warning'>, 1764115200.0, None)
    >>> decode_alert({"labels": {"alertname": "Down"}, "startsAt": "2025-11-26T00:00:00Z"},
    ...              1764115200.0 + 300).ts  # a re-send received 5 minutes later
    1764115500.0
    """
    labels = read_labels(obj)
    name = _read_name(obj, labels)
    starts_at = read_optional_time(obj, "startsAt")
    ends_at = read_optional_time(obj, "endsAt")
    sent = read_ts(obj, default_ts) if obj.get("ts") is not None else default_ts
    status = _read_status(obj, default_status, ends_at, sent)
    return Alert(
        ts=_event_time(obj, status, sent, starts_at, ends_at),
        name=name,
        status=status,
        severity=_read_severity(obj, labels),
        fingerprint=_read_fingerprint(obj, name, labels),
        labels=labels,
        annotations=read_labels(obj, "annotations"),
        starts_at=starts_at,
        ends_at=ends_at,
        generator_url=read_text(obj, "generatorURL", None) or None,
    )


def _event_time(
    obj: dict[str, object],
    status: AlertStatus,
    sent: float | None,
    starts_at: float | None,
    ends_at: float | None,
) -> float:
    if obj.get("ts") is not None and sent is not None:
        return sent
    if status is AlertStatus.RESOLVED and ends_at is not None:
        return ends_at
    known = [t for t in (sent, starts_at) if t is not None]
    return max(known) if known else read_ts(obj, None)
