"""Codec of the internal repartition topic (``vigil.incident-in``): detect -> incident stage.

Not part of the wire contract: it carries typed anomalies (with their labels, which the public
``anomalies`` record omits), alerts and changes, keyed by scope (the ``cluster`` label) so one
incident-stage partition sees every event of its scope. Watermark records (``"t": "wm"``,
see ``connectors.kafka.watermarks``) go to every partition and tell the incident stage how far
each upstream partition has got in event time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import orjson

from engine.events import (
    Alert,
    AlertStatus,
    Anomaly,
    AnomalyKind,
    Change,
    Labels,
    Severity,
)

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
    if isinstance(event, Anomaly):
        body = event.to_wire()
        body["labels"] = dict(event.labels)
        return orjson.dumps({"t": "anomaly", "v": body})
    if isinstance(event, Alert):
        return orjson.dumps({"t": "alert", "v": _alert_body(event)})
    return orjson.dumps({"t": "change", "v": _change_body(event)})


def decode(raw: bytes) -> ScopeEvent | Watermark:
    """Inverse of ``encode`` and ``encode_watermark``; raises ValueError/KeyError/TypeError on a
    record we did not write."""
    envelope = orjson.loads(raw)
    if envelope["t"] == "wm":
        return Watermark(str(envelope["src"]), float(envelope["ts"]), bool(envelope["idle"]))
    kind, v = envelope["t"], envelope["v"]
    if kind == "anomaly":
        return Anomaly(
            id=v["id"],
            ts=v["ts"],
            kind=AnomalyKind(v["kind"]),
            node=v["node"],
            subject=v["subject"],
            score=v["score"],
            severity=Severity(v["severity"]),
            detail=v["detail"],
            labels=v["labels"],
        )
    if kind == "alert":
        return Alert(
            ts=v["ts"],
            name=v["name"],
            status=AlertStatus(v["status"]),
            severity=Severity(v["severity"]),
            fingerprint=v["fingerprint"],
            labels=v["labels"],
            annotations=v["annotations"],
            starts_at=v["starts_at"],
            ends_at=v["ends_at"],
            generator_url=v["generator_url"],
        )
    if kind == "change":
        return Change(**v)
    raise ValueError(f"unknown envelope type {kind!r}")


def _alert_body(a: Alert) -> dict[str, Any]:
    return {
        "ts": a.ts,
        "name": a.name,
        "status": a.status.value,
        "severity": a.severity.value,
        "fingerprint": a.fingerprint,
        "labels": dict(a.labels),
        "annotations": dict(a.annotations),
        "starts_at": a.starts_at,
        "ends_at": a.ends_at,
        "generator_url": a.generator_url,
    }


def _change_body(c: Change) -> dict[str, Any]:
    return {
        "ts": c.ts,
        "kind": c.kind,
        "service": c.service,
        "version": c.version,
        "description": c.description,
        "labels": dict(c.labels),
    }
