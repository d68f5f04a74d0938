"""Output records of the wire contract: Anomaly, Incident, Action and RetrainRequest.

Also ``IncidentSnapshot``, what the correlate stage hands to the rank stage. Each output has a
``to_wire()`` dict (encoded by connectors) and a stable id derived from its inputs.
``engine.events`` re-exports all of them; import from there.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from engine.inputs import Alert, Change, Rejected, TopologyEdge, TopologyNode
from engine.vocabulary import EventTime, JsonDict, Labels, Severity


class AnomalyKind(enum.Enum):
    METRIC = "metric"
    LOG = "log"
    DATA_DRIFT = "data_drift"
    PREDICTION_DRIFT = "prediction_drift"
    PERFORMANCE = "performance"
    FORECAST = "forecast"


class IncidentStatus(enum.Enum):
    OPEN = "open"
    UPDATED = "updated"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class Anomaly:
    """A detector's finding. ``score`` in [0, 1], higher is more anomalous."""

    id: str
    ts: EventTime
    kind: AnomalyKind
    node: str
    subject: JsonDict
    score: float
    severity: Severity
    detail: JsonDict = field(default_factory=dict)
    labels: Labels = field(default_factory=dict)

    def to_wire(self, *, labels: bool = False) -> JsonDict:
        """The ``anomalies`` record; with ``labels`` also the labels (the plain-data form of
        operator state and the Kafka repartition envelope, which ``from_wire`` reads back)."""
        out: JsonDict = {
            "id": self.id,
            "ts": self.ts,
            "kind": self.kind.value,
            "node": self.node,
            "subject": self.subject,
            "score": self.score,
            "severity": self.severity.value,
            "detail": self.detail,
        }
        if labels:
            out["labels"] = dict(self.labels)
        return out

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> Anomaly:
        return cls(
            id=d["id"],
            ts=d["ts"],
            kind=AnomalyKind(d["kind"]),
            node=d["node"],
            subject=d["subject"],
            score=d["score"],
            severity=Severity(d["severity"]),
            detail=d["detail"],
            labels=d.get("labels", {}),
        )


@dataclass(frozen=True, slots=True)
class RootCause:
    node: str
    score: float
    kind: str
    evidence: tuple[str, ...] = ()

    def to_wire(self) -> JsonDict:
        return {
            "node": self.node,
            "score": self.score,
            "kind": self.kind,
            "evidence": list(self.evidence),
        }

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> RootCause:
        return cls(str(d["node"]), float(d["score"]), str(d["kind"]), tuple(d["evidence"]))


@dataclass(frozen=True, slots=True)
class Incident:
    """One record each time an incident opens, changes or resolves. ``revision`` counts them."""

    id: str
    status: IncidentStatus
    opened_at: EventTime
    updated_at: EventTime
    severity: Severity
    summary: str
    alerts: tuple[str, ...]
    root_causes: tuple[RootCause, ...] = ()
    nodes: tuple[str, ...] = ()
    labels: Labels = field(default_factory=dict)
    revision: int = 0

    @property
    def record_id(self) -> str:
        """Stable id of this record (the incident id names the incident, not the record)."""
        return f"{self.id}@{self.revision}"

    def to_wire(self) -> JsonDict:
        return {
            "id": self.id,
            "status": self.status.value,
            "opened_at": self.opened_at,
            "updated_at": self.updated_at,
            "severity": self.severity.value,
            "summary": self.summary,
            "alerts": list(self.alerts),
            "root_causes": [c.to_wire() for c in self.root_causes],
            "nodes": list(self.nodes),
            "labels": dict(self.labels),
            "revision": self.revision,
        }

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> Incident:
        """An ``incidents`` record back (raises KeyError/TypeError/ValueError on another)."""
        return cls(
            id=str(d["id"]),
            status=IncidentStatus(d["status"]),
            opened_at=float(d["opened_at"]),
            updated_at=float(d["updated_at"]),
            severity=Severity(d["severity"]),
            summary=str(d["summary"]),
            alerts=tuple(str(a) for a in d["alerts"]),
            root_causes=tuple(RootCause.from_wire(c) for c in d["root_causes"]),
            nodes=tuple(str(n) for n in d.get("nodes", ())),
            labels={str(k): str(v) for k, v in d.get("labels", {}).items()},
            revision=int(d.get("revision", 0)),
        )


class ActionStatus(enum.Enum):
    DECIDED = "decided"
    DELIVERED = "delivered"
    FAILED = "failed"
    SUPPRESSED = "suppressed"


@dataclass(frozen=True, slots=True)
class Action:
    """An action decided by the act stage; connectors deliver it and report the outcome.

    ``id`` is the idempotency key: incident id + receiver + what is being said (e.g. trigger or
    resolve), so a replay or restart never sends the same thing twice.
    """

    id: str
    ts: EventTime
    incident: str
    receiver: str
    type: str
    dedup_key: str
    payload: JsonDict = field(default_factory=dict)
    status: ActionStatus = ActionStatus.DECIDED
    attempts: int = 0
    error: str | None = None

    def to_wire(self, *, payload: bool = False) -> JsonDict:
        """The ``actions`` record; with ``payload`` also what is sent (the form of the outbox,
        the Kafka ``actions`` topic and the notifications file, which ``from_wire`` reads)."""
        out: JsonDict = {
            "id": self.id,
            "ts": self.ts,
            "incident": self.incident,
            "receiver": self.receiver,
            "type": self.type,
            "dedup_key": self.dedup_key,
            "status": self.status.value,
            "attempts": self.attempts,
        }
        if self.error is not None:
            out["error"] = self.error
        if payload:
            out["payload"] = self.payload
        return out

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> Action:
        """An ``actions`` record back (raises KeyError/TypeError/ValueError on another); a
        record without a payload (or with one that is not an object) gets an empty one."""
        payload = d.get("payload", {})
        return cls(
            id=str(d["id"]),
            ts=_number(d["ts"]),
            incident=str(d["incident"]),
            receiver=str(d["receiver"]),
            type=str(d["type"]),
            dedup_key=str(d["dedup_key"]),
            payload=payload if isinstance(payload, dict) else {},
            status=ActionStatus(d["status"]),
            attempts=int(d.get("attempts", 0)),
            error=d.get("error"),
        )


@dataclass(frozen=True, slots=True)
class RetrainRequest:
    """A request for the ML pipeline trigger topic (default ``ml.retrain``)."""

    id: str
    model: str
    reason: str
    evidence: JsonDict
    requested_at: EventTime
    dedup_key: str
    version: str | None = None
    incident: str | None = None

    def to_wire(self) -> JsonDict:
        return {
            "id": self.id,
            "model": self.model,
            "version": self.version,
            "reason": self.reason,
            "evidence": self.evidence,
            "incident": self.incident,
            "requested_at": self.requested_at,
            "dedup_key": self.dedup_key,
        }

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> RetrainRequest:
        return cls(
            id=d["id"],
            model=d["model"],
            reason=d["reason"],
            evidence=d["evidence"],
            requested_at=d["requested_at"],
            dedup_key=d["dedup_key"],
            version=d["version"],
            incident=d["incident"],
        )


@dataclass(frozen=True, slots=True)
class IncidentSnapshot:
    """What the correlate stage hands to the rank stage: an incident and everything about it.

    ``incident`` has no root causes yet. ``nodes``/``edges`` are the topology neighbourhood of
    the incident's nodes (callers, callees and hosts within two hops), so ranking needs no
    global state. ``changes`` are the change events near the incident's onset. ``observed``:
    the nodes among ``nodes`` that have ever had an anomaly, hold or alert (they have
    telemetry, so their silence now counts against them as causes).
    """

    incident: Incident
    anomalies: tuple[Anomaly, ...] = ()
    alerts: tuple[Alert, ...] = ()
    changes: tuple[Change, ...] = ()
    nodes: tuple[TopologyNode, ...] = ()
    edges: tuple[TopologyEdge, ...] = ()
    observed: frozenset[str] = frozenset()


def _number(value: object) -> float:
    """A JSON number as it was (an int stays an int, so re-encoding gives the same bytes)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"not a number: {value!r}")
    return value


OutputEvent: TypeAlias = Anomaly | Incident | Action | RetrainRequest | Rejected
