"""Decoded input events as plain JSON data, for the input journal (and back, unchanged).

The journal keeps what the HTTP API accepted *after* decoding (so a Prometheus remote-write
or OTLP body is decoded once, by the route that understood it). Each event is a small tagged
object ``{"t": <kind>, "v": {...}}``; alerts, changes and topology reuse the forms the
correlator keeps in its state (their ``to_dict``/``from_dict``), dead letters their wire form.
``decode_event(encode_event(e)) == e`` for every input event and ``Rejected``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, Final

from engine.events import (
    Alert,
    Change,
    GroundTruth,
    InputEvent,
    Level,
    LogRecord,
    MetricPoint,
    Prediction,
    Rejected,
    TopologyUpdate,
)

Journaled = InputEvent | Rejected
Plain = dict[str, Any]


def _metric(e: MetricPoint) -> Plain:
    return {"ts": e.ts, "name": e.name, "value": e.value, "labels": dict(e.labels)}


def _log(e: LogRecord) -> Plain:
    return {"ts": e.ts, "message": e.message, "level": int(e.level), "labels": dict(e.labels)}


def _prediction(e: Prediction) -> Plain:
    return {
        "ts": e.ts,
        "model": e.model,
        "id": e.id,
        "features": dict(e.features),
        "prediction": e.prediction,
        "score": e.score,
        "version": e.version,
        "labels": dict(e.labels),
    }


def _label(e: GroundTruth) -> Plain:
    return {"ts": e.ts, "model": e.model, "id": e.id, "label": e.label}


def _rejected(e: Rejected) -> Plain:
    return {
        "source": e.source,
        "error": e.error,
        "value": base64.b64encode(e.value).decode("ascii"),
        "partition": e.partition,
        "offset": e.offset,
    }


def _rejected_from(d: Plain) -> Rejected:
    value = base64.b64decode(d["value"])
    return Rejected(d["source"], d["error"], value, d["partition"], d["offset"])


_ENCODERS: Final[dict[type, tuple[str, Callable[[Any], Plain]]]] = {
    MetricPoint: ("metric", _metric),
    LogRecord: ("log", _log),
    Prediction: ("prediction", _prediction),
    GroundTruth: ("label", _label),
    Alert: ("alert", Alert.to_dict),
    Change: ("change", Change.to_dict),
    TopologyUpdate: ("topology", TopologyUpdate.to_dict),
    Rejected: ("rejected", _rejected),
}
_DECODERS: Final[dict[str, Callable[[Plain], Journaled]]] = {
    "metric": lambda d: MetricPoint(**d),
    "log": lambda d: LogRecord(d["ts"], d["message"], Level(d["level"]), d["labels"]),
    "prediction": lambda d: Prediction(**d),
    "label": lambda d: GroundTruth(**d),
    "alert": Alert.from_dict,
    "change": Change.from_dict,
    "topology": TopologyUpdate.from_dict,
    "rejected": _rejected_from,
}


def encode_event(event: Journaled) -> Plain:
    """``{"t": kind, "v": plain data}``.

    >>> encode_event(MetricPoint(1.5, "up", 1.0, {"host": "a"}))
    {'t': 'metric', 'v': {'ts': 1.5, 'name': 'up', 'value': 1.0, 'labels': {'host': 'a'}}}
    """
    tag, encode = _ENCODERS[type(event)]
    return {"t": tag, "v": encode(event)}


def decode_event(data: Plain) -> Journaled:
    """Inverse of ``encode_event``; raises KeyError/TypeError/ValueError on data it did not
    write.

    >>> decode_event(encode_event(LogRecord(2.0, "disk full", Level.ERROR)))
    LogRecord(ts=2.0, message='disk full', level=<Level.ERROR: 4>, labels={})
    """
    return _DECODERS[data["t"]](data["v"])
