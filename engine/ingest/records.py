"""Decoders for the flat input kinds: metrics, logs, predictions, labels (ground truth), changes.

Each takes one decoded JSON object and the fallback event time (the Kafka record timestamp, or
in a file the previous line's ``ts``) and returns one typed event or raises ``FieldError``.
Unknown top-level fields are ignored. These are the hot path of the Kafka worker, so they use
plain type checks, not a validation library.
"""

from __future__ import annotations

import math
from typing import Final

from engine.events import Change, GroundTruth, Level, LogRecord, MetricPoint, Prediction
from engine.ingest.errors import FieldError
from engine.ingest.timestamps import read_ts
from engine.ingest.values import (
    as_finite,
    describe,
    json_type,
    read_finite,
    read_ident,
    read_label_value,
    read_labels,
    read_name,
    read_optional_ident,
    read_text,
    shorten,
)

LEVELS: Final[dict[str, Level]] = {
    **{level.name: level for level in Level},
    "WARNING": Level.WARN,
    # Compatible extension (docs/events.md): common spellings from syslog and Python logging.
    "ERR": Level.ERROR,
    "CRIT": Level.FATAL,
    "CRITICAL": Level.FATAL,
    "PANIC": Level.FATAL,
    "NOTICE": Level.INFO,
}
_LEVEL_NAMES: Final = ", ".join(level.name for level in Level)


def decode_metric(obj: dict[str, object], default_ts: float | None) -> MetricPoint:
    """One sample of one series.

    >>> decode_metric({"ts": 1764115200, "name": "cpu", "value": 1, "labels": {"host": "h"}}, None)
    MetricPoint(ts=1764115200.0, name='cpu', value=1.0, labels={'host': 'h'})
    """
    ts = read_ts(obj, default_ts)
    name = obj.get("name")
    if type(name) is not str or not name:
        name = read_name(obj, "name")
    value = obj.get("value")
    if type(value) is not float or not math.isfinite(value):
        value = read_finite(obj, "value")
    return MetricPoint(ts, name, value, read_labels(obj))


def read_level(obj: dict[str, object]) -> Level:
    """``level``, case-insensitive; missing or null is INFO."""
    value = obj.get("level")
    if value is None:
        return Level.INFO
    if isinstance(value, str):
        level = LEVELS.get(value.strip().upper())
        if level is not None:
            return level
    raise FieldError(f"level: must be one of {_LEVEL_NAMES} (got {describe(value)})")


def decode_log(obj: dict[str, object], default_ts: float | None) -> LogRecord:
    """One structured log record.

    >>> decode_log({"ts": "2025-11-26T00:00:00Z", "message": "boom", "level": "warning"}, None)
    LogRecord(ts=1764115200.0, message='boom', level=<Level.WARN: 3>, labels={})
    """
    ts = read_ts(obj, default_ts)
    message = obj.get("message")
    if type(message) is not str:
        if message is None:
            raise FieldError("message: required")
        raise FieldError(f"message: must be a string (got {describe(message)})")
    return LogRecord(ts, message, read_level(obj), read_labels(obj))


def decode_log_line(line: str, default_ts: float | None) -> LogRecord:
    """A plain-text log line: ``message`` is the text, ``ts`` the record time, level INFO.

    A blank line carries nothing to learn from and is rejected.
    """
    message = line.rstrip("\r\n")
    if not message.strip():
        raise FieldError("message: blank line")
    if default_ts is None:
        raise FieldError("ts: missing")
    return LogRecord(default_ts, message, Level.INFO, {})


def read_features(obj: dict[str, object]) -> dict[str, float | str]:
    """``features``: numbers (numeric features) or strings (categorical); null values dropped."""
    value = obj.get("features")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FieldError(f"features: must be a map of numbers or strings (got {json_type(value)})")
    features: dict[str, float | str] = {}
    for name, feature in value.items():
        if feature is None:
            continue  # a missing feature value: absent, not an error (docs/events.md)
        checked = feature if isinstance(feature, str) else as_finite(feature)
        if checked is None or not isinstance(name, str):
            shown = shorten(name) if isinstance(name, str) else "?"
            raise FieldError(
                "features: values must be finite numbers or strings "
                f"(features.{shown} is {describe(feature)})"
            )
        features[name] = checked
    return features


def _read_class(obj: dict[str, object], key: str) -> float | int | str:
    value = obj.get(key)
    checked = read_label_value(value)
    if checked is None:
        if value is None:
            raise FieldError(f"{key}: required")
        raise FieldError(f"{key}: must be a finite number or a string (got {describe(value)})")
    return checked


def _read_score(obj: dict[str, object]) -> float | None:
    value = obj.get("score")
    if value is None:
        return None
    score = as_finite(value)
    if score is None or not 0.0 <= score <= 1.0:
        raise FieldError(f"score: must be a number in [0, 1] (got {describe(value)})")
    return score


def decode_prediction(obj: dict[str, object], default_ts: float | None) -> Prediction:
    """One model prediction; ``id`` and ``version`` may be integers (rendered as strings)."""
    return Prediction(
        ts=read_ts(obj, default_ts),
        model=read_name(obj, "model"),
        id=read_ident(obj, "id"),
        features=read_features(obj),
        prediction=_read_class(obj, "prediction"),
        score=_read_score(obj),
        version=read_optional_ident(obj, "version"),
        labels=read_labels(obj),
    )


def decode_ground_truth(obj: dict[str, object], default_ts: float | None) -> GroundTruth:
    """A late label, joined to its prediction by ``model`` and ``id``."""
    return GroundTruth(
        ts=read_ts(obj, default_ts),
        model=read_name(obj, "model"),
        id=read_ident(obj, "id"),
        label=_read_class(obj, "label"),
    )


def decode_change(obj: dict[str, object], default_ts: float | None) -> Change:
    """A deploy or other change; ``kind`` strings outside the known set are kept as given."""
    return Change(
        ts=read_ts(obj, default_ts),
        kind=read_name(obj, "kind"),
        service=read_name(obj, "service"),
        version=read_optional_ident(obj, "version"),
        description=read_text(obj, "description", "") or "",
        labels=read_labels(obj),
    )
