"""Codec of the internal repartition topic (``vigil.incident-in``): detect -> incident stage.

Not part of the wire contract: it carries typed anomalies (with their labels, which the public
``anomalies`` record omits), alerts and changes, keyed by scope (the ``cluster`` label) so one
incident-stage partition sees every event of its scope. Watermark records (``"t": "wm"``,
see ``connectors.kafka.watermarks``) go to every partition and tell the incident stage how far
each upstream partition has got in event time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import orjson

from engine.events import Alert, Anomaly, Change, Labels

ScopeEvent = Anomaly | Alert | Change
SCOPE_LABEL: Final = "cluster"


@dataclass(frozen=True, slots=True)
class Watermark:
    """Upstream partition ``src`` (``topic/partition``) has sent every event up to ``ts``
    (less the allowed lateness); ``idle``: it has had no new record for a while."""

    src: str
    ts: float
    idle: bool = False


def encode_watermark(mark: Watermark) -> bytes:
    return orjson.dumps({"t": "wm", "src": mark.src, "ts": mark.ts, "idle": mark.idle})


def scope_of(labels: Labels) -> bytes:
    """Partition key of the incident stage: the cluster label ('' when absent)."""
    return labels.get(SCOPE_LABEL, "").encode()


def encode(event: ScopeEvent) -> bytes:
    """An anomaly, alert or change as an incident-in record (the same plain-data form the
    correlator keeps in its state: ``Anomaly.to_wire(labels=True)``, ``Alert.to_dict``, ...)."""
    if isinstance(event, Anomaly):
        return orjson.dumps({"t": "anomaly", "v": event.to_wire(labels=True)})
    if isinstance(event, Alert):
        return orjson.dumps({"t": "alert", "v": event.to_dict()})
    return orjson.dumps({"t": "change", "v": event.to_dict()})


def decode(raw: bytes) -> ScopeEvent | Watermark:
    """Inverse of ``encode`` and ``encode_watermark``; raises ValueError/KeyError/TypeError on a
    record we did not write."""
    envelope = orjson.loads(raw)
    if envelope["t"] == "wm":
        return Watermark(str(envelope["src"]), float(envelope["ts"]), bool(envelope["idle"]))
    kind, v = envelope["t"], envelope["v"]
    if kind == "anomaly":
        return Anomaly.from_wire(v)
    if kind == "alert":
        return Alert.from_dict(v)
    if kind == "change":
        return Change.from_dict(v)
    raise ValueError(f"unknown envelope type {kind!r}")
