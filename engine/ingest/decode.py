"""Raw record values (bytes) or parsed JSON -> typed input events, or ``Rejected`` dead letters.

This is the wire contract of docs/events.md. A value that is a JSON array is a batch: each
element is decoded as its own record and a bad element rejects only itself (its dead letter
holds the element re-serialised). Nothing here raises on bad data: every input is accounted
for as events or as ``Rejected`` with a reason that names the key
(``value: not a finite number (got string '3')``). ``reason_class`` maps a reason to a bounded
label for metrics.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeAlias

import orjson

from engine.events import InputEvent, InputKind, Rejected
from engine.ingest.alertmanager import decode_alert, is_webhook, webhook_elements
from engine.ingest.errors import FieldError
from engine.ingest.records import (
    decode_change,
    decode_ground_truth,
    decode_log,
    decode_log_line,
    decode_metric,
    decode_prediction,
)
from engine.ingest.timestamps import read_ts
from engine.ingest.topology_decode import decode_topology
from engine.ingest.values import json_type

Decoded: TypeAlias = "list[InputEvent | Rejected]"
Decoder: TypeAlias = Callable[[dict[str, object], "float | None"], InputEvent]


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a record came from: a topic (or file) name, and its Kafka coordinates.

    ``timestamp`` is the fallback event time in epoch seconds: the Kafka record timestamp, or in
    a replay file the previous line's ``ts``. ``None`` means there is none.
    """

    source: str
    partition: int | None = None
    offset: int | None = None
    timestamp: float | None = None


DECODERS: Final[dict[InputKind, Decoder]] = {
    InputKind.METRICS: decode_metric,
    InputKind.LOGS: decode_log,
    InputKind.PREDICTIONS: decode_prediction,
    InputKind.LABELS: decode_ground_truth,
    InputKind.ALERTS: decode_alert,
    InputKind.CHANGES: decode_change,
    InputKind.TOPOLOGY: decode_topology,
}
_INDEX: Final = re.compile(r"\[\d+\]")


def reason_class(error: str) -> str:
    """A bounded class of a rejection reason: its key path and problem, without the details.

    >>> reason_class("alerts[3].labels: must be a map of strings (labels.x is number)")
    'alerts.labels: must be a map of strings'
    >>> reason_class("not valid JSON: unexpected character: line 1 column 1 (char 0)")
    'not valid JSON'
    """
    if error.startswith("not valid JSON"):
        return "not valid JSON"
    return _INDEX.sub("", error.split(" (", 1)[0])


def _reject(origin: Origin, reason: str, value: bytes) -> Rejected:
    return Rejected(origin.source, reason, value, origin.partition, origin.offset)


def serialise(obj: object) -> bytes:
    """JSON bytes of a decoded value, for a dead letter; never raises."""
    try:
        return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        pass  # too deep for orjson, or holds non-JSON values (decode_object from other sources)
    try:
        return json.dumps(obj, default=repr, separators=(",", ":")).encode(
            "utf-8", "backslashreplace"
        )
    except (TypeError, ValueError, RecursionError):
        return b'"<unserialisable value>"'


def _decode_webhook(payload: dict[str, object], origin: Origin, raw: bytes | None) -> Decoded:
    try:
        elements = webhook_elements(payload)
        received = read_ts(payload, origin.timestamp) if "ts" in payload else origin.timestamp
    except FieldError as error:
        return [_reject(origin, error.reason, serialise(payload) if raw is None else raw)]
    out: Decoded = []
    status = payload.get("status")
    for i, element in enumerate(elements):
        if not isinstance(element, dict):
            reason = f"alerts[{i}]: not a JSON object (got {json_type(element)})"
            out.append(_reject(origin, reason, serialise(element)))
            continue
        try:
            out.append(decode_alert(element, received, status))
        except FieldError as error:
            out.append(_reject(origin, error.under(f"alerts[{i}]").reason, serialise(element)))
    return out


def _decode_map(
    kind: InputKind, obj: dict[str, object], origin: Origin, raw: bytes | None
) -> Decoded:
    if kind is InputKind.ALERTS and is_webhook(obj):
        return _decode_webhook(obj, origin, raw)
    try:
        return [DECODERS[kind](obj, origin.timestamp)]
    except FieldError as error:
        return [_reject(origin, error.reason, serialise(obj) if raw is None else raw)]


def _decode_value(kind: InputKind, obj: object, origin: Origin, raw: bytes | None) -> Decoded:
    """One record that is not a batch: an object, or (logs only) a plain string."""
    if isinstance(obj, dict):
        return _decode_map(kind, obj, origin, raw)
    if kind is InputKind.LOGS and isinstance(obj, str):
        try:
            return [decode_log_line(obj, origin.timestamp)]
        except FieldError as error:
            return [_reject(origin, error.reason, serialise(obj) if raw is None else raw)]
    reason = f"not a JSON object (got {json_type(obj)})"
    return [_reject(origin, reason, serialise(obj) if raw is None else raw)]


def decode_object(
    kind: InputKind, obj: object, origin: Origin, raw: bytes | None = None
) -> Decoded:
    """Decode an already-parsed JSON value (an object, or an array of them as a batch).

    ``raw`` is the original bytes, kept as the dead-letter value when the whole record is
    rejected; without it the value is re-serialised.

    >>> decode_object(InputKind.METRICS, [{"name": "up", "value": 1}, {"name": "up"}],
    ...               Origin("metrics", timestamp=1764115200.0))  # doctest: +NORMALIZE_WHITESPACE
    [MetricPoint(ts=1764115200.0, name='up', value=1.0, labels={}),
     Rejected(source='metrics', error='value: required', value=b'{"name":"up"}',
              partition=None, offset=None)]
    """
    if isinstance(obj, list):
        out: Decoded = []
        for element in obj:
            out.extend(_decode_value(kind, element, origin, None))
        return out
    return _decode_value(kind, obj, origin, raw)


def decode_record(kind: InputKind, raw: bytes, origin: Origin) -> Decoded:
    """Decode one record value (UTF-8 JSON; for logs also a plain-text line).

    >>> decode_record(InputKind.METRICS, b'{"ts": 1764115200, "name": "up", "value": 1}',
    ...               Origin("metrics"))
    [MetricPoint(ts=1764115200.0, name='up', value=1.0, labels={})]
    >>> [r.error for r in decode_record(InputKind.METRICS, b'{"name": "up", "value": true}',
    ...                                 Origin("metrics", timestamp=0.0))]
    ['value: not a finite number (got bool true)']
    >>> decode_record(InputKind.LOGS, b"disk full\\n", Origin("logs", timestamp=1.5))
    [LogRecord(ts=1.5, message='disk full', level=<Level.INFO: 2>, labels={})]
    """
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        return _decode_unparsed(kind, raw, origin, error)
    if type(obj) is dict:  # the hot path: one object per record
        if kind is not InputKind.ALERTS:
            try:
                return [DECODERS[kind](obj, origin.timestamp)]
            except FieldError as field_error:
                return [_reject(origin, field_error.reason, raw)]
        return _decode_map(kind, obj, origin, raw)
    if type(obj) is list:
        return decode_object(kind, obj, origin, raw)
    if kind is InputKind.LOGS and not isinstance(obj, str):
        return _decode_text(kind, raw, origin)  # a log line that happens to parse: "42", "true"
    return _decode_value(kind, obj, origin, raw)


def _decode_text(kind: InputKind, raw: bytes, origin: Origin) -> Decoded:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        reason = f"not valid UTF-8 (byte 0x{raw[error.start]:02x} at offset {error.start})"
        return [_reject(origin, reason, raw)]
    if kind is InputKind.LOGS:
        return _decode_value(kind, text, origin, raw)
    return []


def _decode_unparsed(
    kind: InputKind, raw: bytes, origin: Origin, error: orjson.JSONDecodeError
) -> Decoded:
    """A value orjson refused: invalid UTF-8, a plain log line, NaN/Infinity, or broken JSON.

    A log record that is a JSON object but for NaN/Infinity is a structured record with a bad
    value, not a plain-text line: it is rejected naming the field, like every other kind."""
    if kind is InputKind.LOGS and raw.lstrip().startswith(b"{") and _non_finite_json(raw):
        return [_reject(origin, _explain_invalid_json(kind, raw, origin, error), raw)]
    as_text = _decode_text(kind, raw, origin)
    if as_text:  # invalid UTF-8 for every kind, and any text for logs
        return as_text
    return [_reject(origin, _explain_invalid_json(kind, raw, origin, error), raw)]


def _non_finite_json(raw: bytes) -> bool:
    """Whether ``raw`` is JSON but for NaN/Infinity literals (the standard library accepts them)."""
    if b"NaN" not in raw and b"Infinity" not in raw:
        return False
    try:
        return isinstance(json.loads(raw), dict)
    except (ValueError, RecursionError):
        return False


def _explain_invalid_json(
    kind: InputKind, raw: bytes, origin: Origin, error: orjson.JSONDecodeError
) -> str:
    """The reason for JSON orjson refuses; for NaN/Infinity (which the standard library's
    parser accepts) the first field they make invalid, e.g. ``value: not a finite number``."""
    generic = f"not valid JSON: {error}"
    if b"NaN" not in raw and b"Infinity" not in raw and "infinity" not in str(error):
        return generic
    try:
        lenient = json.loads(raw)
    except (ValueError, RecursionError):
        return generic
    for item in decode_object(kind, lenient, origin, raw):
        if isinstance(item, Rejected):  # the record stays rejected: it is not JSON
            found = item.error
            reason = found[:-1] + "; not valid JSON)" if found.endswith(")") else found
            return reason.encode("utf-8", "backslashreplace").decode("utf-8")
    return f"{generic} (NaN or Infinity)"
