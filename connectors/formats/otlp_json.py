"""The OTLP JSON mapping of metrics and logs, read straight from the parsed JSON.

``google.protobuf.json_format`` would fill the protobuf message first, in pure Python: about 50
times slower than this (``python -m benchmarks.ingest``). The rules are the OTLP/JSON ones:
lowerCamelCase keys, 64-bit integers as strings or numbers, doubles as numbers or the strings
``NaN``/``Infinity``/``-Infinity``, enums as integers, ``AnyValue`` as ``{"stringValue": ...}``
and so on. The result is what ``connectors.formats.otlp`` gives for the same message in
protobuf (a unit test compares them); a body whose structure is wrong is one dead letter
naming the first wrong key.
"""

from __future__ import annotations

from typing import Any, Final

import orjson
from opentelemetry.proto.logs.v1.logs_pb2 import SeverityNumber

from connectors.formats.labels import RESOURCE_LABELS, unset_service
from engine.events import Level, LogRecord, MetricPoint, Rejected
from engine.ingest.decode import Origin, serialise
from engine.ingest.records import LEVELS

_SPECIAL: Final = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}
_LEVEL_OF_SEVERITY: Final = (Level.TRACE, Level.DEBUG, Level.INFO, Level.WARN, Level.ERROR)


class MalformedError(Exception):
    """The JSON does not have the message's structure at ``path``."""


def _items(obj: Any, key: str, path: str) -> list[Any]:
    value = obj.get(key) if isinstance(obj, dict) else None
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedError(f"{path}{key}: expected an array")
    return value


def _object(obj: Any, key: str) -> dict[str, Any]:
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> float:
    """A JSON number or a numeric string (64-bit integers, NaN/Infinity) as a float."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        special = _SPECIAL.get(value)
        return special if special is not None else float(value)
    raise ValueError(value)


def _text(value: Any) -> str | None:
    """An ``AnyValue`` object as a label value (scalars only)."""
    if not isinstance(value, dict):
        return None
    if "stringValue" in value:
        return str(value["stringValue"])
    if "boolValue" in value:
        return "true" if value["boolValue"] else "false"
    if "intValue" in value:
        return str(int(value["intValue"]))
    if "doubleValue" in value:
        return repr(_number(value["doubleValue"]))
    return None


def _resource_labels(resource: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for kv in _items(resource, "attributes", "resource."):
        label = RESOURCE_LABELS.get(kv.get("key", "")) if isinstance(kv, dict) else None
        if label is not None and label not in out:
            text = _text(kv.get("value"))
            if text is not None and not unset_service(kv["key"], text):
                out[label] = text
    return out


def _with_attributes(base: dict[str, str], point: dict[str, Any]) -> dict[str, str]:
    out = dict(base)
    for kv in _items(point, "attributes", ""):
        if isinstance(kv, dict) and isinstance(kv.get("key"), str):
            text = _text(kv.get("value"))
            if text is not None:
                out[kv["key"]] = text
    return out


def metric_events(body: bytes, origin: Origin) -> tuple[list[MetricPoint | Rejected], int]:
    """Events of an ``ExportMetricsServiceRequest`` in JSON, and the points without value."""
    try:
        request = orjson.loads(body)
        if not isinstance(request, dict):
            raise MalformedError("expected a JSON object")
        out: list[MetricPoint | Rejected] = []
        skipped = 0
        for rm in _items(request, "resourceMetrics", ""):
            base = _resource_labels(_object(rm, "resource"))
            for sm in _items(rm, "scopeMetrics", "resourceMetrics[]."):
                for metric in _items(sm, "metrics", "scopeMetrics[]."):
                    skipped += _metric(metric, base, origin, out)
    except (orjson.JSONDecodeError, MalformedError, ValueError, TypeError, OverflowError) as exc:
        reason = f"not an OTLP ExportMetricsServiceRequest (JSON: {str(exc)[:200]})"
        return [Rejected(origin.source, reason, body, origin.partition, origin.offset)], 0
    return out, skipped


def _metric(metric: Any, base: dict[str, str], origin: Origin, out: list[Any]) -> int:
    """Append the points of one metric; the number skipped (no recorded value)."""
    if not isinstance(metric, dict):
        raise MalformedError("metrics[]: expected an object")
    name, skipped = metric.get("name", ""), 0
    for kind in ("gauge", "sum", "histogram", "exponentialHistogram", "summary"):
        if kind in metric:
            for point in _items(metric[kind], "dataPoints", f"{kind}."):
                skipped += _point(kind, name, point, base, origin, out)
    return skipped


def _point(
    kind: str, name: str, point: Any, base: dict[str, str], origin: Origin, out: list[Any]
) -> int:
    if not isinstance(point, dict):
        raise MalformedError(f"{kind}.dataPoints[]: expected an object")
    if int(point.get("flags", 0)) & 1:
        return 1
    labels, ts = _with_attributes(base, point), _number(point.get("timeUnixNano", 0)) / 1e9
    values: list[tuple[str, Any, dict[str, str]]]
    if kind in ("gauge", "sum"):
        values = [(name, point.get("asDouble", point.get("asInt", 0)), labels)]
    else:
        values = [(f"{name}_count", point.get("count", 0), labels)]
        if "sum" in point or kind == "summary":
            values.append((f"{name}_sum", point.get("sum", 0), labels))
        for q in _items(point, "quantileValues", "summary.dataPoints[]."):
            quantile = {**labels, "quantile": repr(_number(q.get("quantile", 0)))}
            values.append((name, q.get("value", 0), quantile))
    for metric_name, raw, point_labels in values:
        value = _number(raw)
        if value == value and abs(value) != float("inf") and metric_name:
            out.append(MetricPoint(ts, metric_name, value, point_labels))
        else:
            reason = (
                "name: required"
                if not metric_name
                else f"value: not a finite number (got {value!r})"
            )
            shown = serialise(
                {"name": metric_name, "labels": point_labels, "value": repr(value), "ts": ts}
            )
            out.append(Rejected(origin.source, reason, shown, origin.partition, origin.offset))
    return 0


def log_events(body: bytes, origin: Origin) -> list[LogRecord | Rejected]:
    """Events of an ``ExportLogsServiceRequest`` in JSON."""
    try:
        request = orjson.loads(body)
        if not isinstance(request, dict):
            raise MalformedError("expected a JSON object")
        out: list[LogRecord | Rejected] = []
        for rl in _items(request, "resourceLogs", ""):
            labels = _resource_labels(_object(rl, "resource"))
            for sl in _items(rl, "scopeLogs", "resourceLogs[]."):
                for record in _items(sl, "logRecords", "scopeLogs[]."):
                    out.append(_log(record, labels, origin.timestamp))
    except (orjson.JSONDecodeError, MalformedError, ValueError, TypeError, OverflowError) as exc:
        reason = f"not an OTLP ExportLogsServiceRequest (JSON: {str(exc)[:200]})"
        return [Rejected(origin.source, reason, body, origin.partition, origin.offset)]
    return out


def _log(record: Any, labels: dict[str, str], fallback: float | None) -> LogRecord:
    if not isinstance(record, dict):
        raise MalformedError("logRecords[]: expected an object")
    nanos = _number(record.get("timeUnixNano", 0)) or _number(record.get("observedTimeUnixNano", 0))
    ts = nanos / 1e9 if nanos else (fallback or 0.0)
    number = _severity_number(record.get("severityNumber", 0))
    if 1 <= number <= 20:
        level = _LEVEL_OF_SEVERITY[(number - 1) // 4]
    elif number > 20:
        level = Level.FATAL
    else:
        level = LEVELS.get(str(record.get("severityText", "")).strip().upper(), Level.INFO)
    return LogRecord(ts, _body_text(record.get("body")), level, labels)


def _severity_number(value: Any) -> int:
    """An enum as the OTLP JSON mapping writes it (an integer), or by name as protobuf's
    generic JSON printer does (``SEVERITY_NUMBER_ERROR``)."""
    if isinstance(value, str) and value.startswith("SEVERITY_NUMBER_"):
        return int(SeverityNumber.Value(value))
    return int(value)


def _body_text(body: Any) -> str:
    text = _text(body)
    if text is not None or not isinstance(body, dict) or not body:
        return text or ""
    return orjson.dumps(next(iter(body.values()))).decode()
