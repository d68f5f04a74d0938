"""PROVISIONAL decoder (issue-kafka branch only): raw record bytes -> typed events.

The ingest helper owns the real ``engine/ingest/decode.py``; this stand-in exists so the Kafka
runtime can be built and tested before it lands. On merge, take the ingest helper's file.
Signature: ``decode_record(kind, raw, origin) -> list[InputEvent | Rejected]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import orjson

from engine.events import (
    Alert,
    AlertStatus,
    Change,
    GroundTruth,
    InputEvent,
    InputKind,
    Level,
    LogRecord,
    MetricPoint,
    Prediction,
    Rejected,
    Severity,
    TopologyEdge,
    TopologyMode,
    TopologyNode,
    TopologyUpdate,
)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a record came from: source (topic or file), partition, offset, timestamp (s)."""

    source: str
    partition: int | None = None
    offset: int | None = None
    timestamp: float | None = None


def decode_record(kind: InputKind, raw: bytes, origin: Origin) -> list[InputEvent | Rejected]:
    """Decode one record value (a JSON object or array of objects)."""
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        if kind is InputKind.LOGS:
            text = raw.decode("utf-8", errors="replace")
            return [LogRecord(ts=origin.timestamp or 0.0, message=text)]
        return [_reject(origin, "not valid JSON", raw)]
    return decode_object(kind, obj, origin, raw)


def decode_object(
    kind: InputKind, obj: Any, origin: Origin, raw: bytes | None = None
) -> list[InputEvent | Rejected]:
    """Decode an already-parsed JSON value."""
    items = obj if isinstance(obj, list) else [obj]
    out: list[InputEvent | Rejected] = []
    for item in items:
        try:
            if not isinstance(item, dict):
                raise ValueError("record: not a JSON object")
            out.append(_DECODERS[kind](item, origin))
        except (ValueError, TypeError, KeyError) as exc:
            out.append(_reject(origin, str(exc), raw if raw is not None else orjson.dumps(item)))
    return out


def _reject(origin: Origin, error: str, raw: bytes) -> Rejected:
    return Rejected(origin.source, error, raw, origin.partition, origin.offset)


def _ts(item: dict[str, Any], origin: Origin) -> float:
    ts = item.get("ts")
    if ts is None:
        if origin.timestamp is None:
            raise ValueError("ts: missing")
        return origin.timestamp
    if isinstance(ts, bool) or not isinstance(ts, int | float):
        raise ValueError(f"ts: not a number ({ts!r})")
    return float(ts)


def _labels(item: dict[str, Any]) -> dict[str, str]:
    labels = item.get("labels") or {}
    if not isinstance(labels, dict):
        raise ValueError("labels: not an object")
    return {str(k): str(v) for k, v in labels.items()}


def _metric(item: dict[str, Any], origin: Origin) -> MetricPoint:
    value = item.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("value: not a finite number")
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError("name: missing")
    return MetricPoint(_ts(item, origin), name, float(value), _labels(item))


def _log(item: dict[str, Any], origin: Origin) -> LogRecord:
    level = str(item.get("level", "INFO")).upper().replace("WARNING", "WARN")
    if level not in Level.__members__:
        raise ValueError(f"level: unknown ({level})")
    return LogRecord(_ts(item, origin), str(item["message"]), Level[level], _labels(item))


def _prediction(item: dict[str, Any], origin: Origin) -> Prediction:
    return Prediction(
        _ts(item, origin),
        str(item["model"]),
        str(item["id"]),
        dict(item.get("features") or {}),
        item["prediction"],
        item.get("score"),
        item.get("version"),
        _labels(item),
    )


def _label(item: dict[str, Any], origin: Origin) -> GroundTruth:
    return GroundTruth(_ts(item, origin), str(item["model"]), str(item["id"]), item["label"])


def _alert(item: dict[str, Any], origin: Origin) -> Alert:
    labels = _labels(item)
    severity = str(item.get("severity") or labels.get("severity") or "warning")
    return Alert(
        _ts(item, origin),
        str(item.get("name") or labels.get("alertname") or ""),
        AlertStatus(item.get("status", "firing")),
        Severity(severity),
        str(item.get("fingerprint", "")),
        labels,
    )


def _change(item: dict[str, Any], origin: Origin) -> Change:
    return Change(
        _ts(item, origin),
        str(item["kind"]),
        str(item["service"]),
        item.get("version"),
        str(item.get("description", "")),
        _labels(item),
    )


def _topology(item: dict[str, Any], origin: Origin) -> TopologyUpdate:
    mode, body = TopologyMode.REPLACE, item
    for candidate in (TopologyMode.UPSERT, TopologyMode.DELETE):
        if candidate.value in item:
            mode, body = candidate, item[candidate.value]
    nodes = tuple(
        TopologyNode(str(n["id"]), str(n.get("kind", "service"))) for n in body.get("nodes", [])
    )
    edges = tuple(
        TopologyEdge(str(e["from"]), str(e["to"]), str(e.get("kind", "calls")))
        for e in body.get("edges", [])
    )
    return TopologyUpdate(item.get("ts") or origin.timestamp or 0.0, mode, nodes, edges)


_DECODERS: dict[InputKind, Any] = {
    InputKind.METRICS: _metric,
    InputKind.LOGS: _log,
    InputKind.PREDICTIONS: _prediction,
    InputKind.LABELS: _label,
    InputKind.ALERTS: _alert,
    InputKind.CHANGES: _change,
    InputKind.TOPOLOGY: _topology,
}
