"""Typed records that flow through the pipeline, and their wire form (see docs/events.md).

Inputs (decoded by ``engine.ingest.decode``): MetricPoint, LogRecord, Prediction, GroundTruth,
Alert, Change, TopologyUpdate. Anything undecodable becomes ``Rejected``.
Outputs: Anomaly, Incident (with RootCause), Action, RetrainRequest.
Every output carries a stable id derived from its inputs (``stable_id``), never from a clock or
a counter, so re-processing the same input yields the same ids.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, NewType, TypeAlias

EventTime: TypeAlias = float
"""Event time in Unix epoch seconds."""

Labels: TypeAlias = Mapping[str, str]
JsonValue: TypeAlias = (
    "bool | int | float | str | Sequence[JsonValue] | Mapping[str, JsonValue] | None"
)
JsonDict: TypeAlias = "dict[str, JsonValue]"

AnomalyId = NewType("AnomalyId", str)
IncidentId = NewType("IncidentId", str)
NodeId = NewType("NodeId", str)

NODE_LABEL_KEYS: Final = ("service", "model", "host")
"""Label keys that name a topology node, in order of preference."""


def stable_id(prefix: str, *parts: object) -> str:
    """Deterministic short id from its parts: ``prefix-`` and 20 hex digits of BLAKE2b.

    >>> stable_id("an", "cpu", 1.0) == stable_id("an", "cpu", 1.0)
    True
    >>> stable_id("an", "cpu", 1.0)[:3]
    'an-'
    """
    digest = hashlib.blake2b("\x1f".join(map(repr, parts)).encode(), digest_size=10)
    return f"{prefix}-{digest.hexdigest()}"


def json_object(value: JsonValue) -> dict[str, Any]:
    """``value`` as a plain dict when it is a JSON object, else an empty dict.

    >>> json_object({"a": 1}), json_object([1, 2]), json_object(None)
    ({'a': 1}, {}, {})
    """
    return dict(value) if isinstance(value, Mapping) else {}


def node_of(labels: Labels) -> str | None:
    """The topology node a set of labels names (``service``, then ``model``, then ``host``)."""
    for key in NODE_LABEL_KEYS:
        value = labels.get(key)
        if value:
            return value
    return None


def series_key(name: str, labels: Labels) -> str:
    """Series identity: the metric name plus its sorted labels, Prometheus style.

    >>> series_key("cpu", {"service": "a", "host": "h1"})
    'cpu{host="h1",service="a"}'
    """
    inner = ",".join(f'{k}="{labels[k]}"' for k in sorted(labels))
    return f"{name}{{{inner}}}"


class Level(enum.IntEnum):
    """Log level; the order is the severity order."""

    TRACE = 0
    DEBUG = 1
    INFO = 2
    WARN = 3
    ERROR = 4
    FATAL = 5


class Severity(enum.Enum):
    """Severity of an anomaly, alert or incident, as on the wire."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for info up to 3 for critical."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK: Final = {
    Severity.INFO: 0,
    Severity.WARNING: 1,
    Severity.ERROR: 2,
    Severity.CRITICAL: 3,
}


class AlertStatus(enum.Enum):
    FIRING = "firing"
    RESOLVED = "resolved"


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


class TopologyMode(enum.Enum):
    REPLACE = "replace"
    UPSERT = "upsert"
    DELETE = "delete"


class InputKind(enum.Enum):
    """The input streams of the wire contract; the value is the replay file's stem."""

    METRICS = "metrics"
    LOGS = "logs"
    PREDICTIONS = "predictions"
    LABELS = "labels"
    ALERTS = "alerts"
    CHANGES = "changes"
    TOPOLOGY = "topology"


# ---------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True, slots=True)
class MetricPoint:
    """One sample of one series; ``value`` is finite."""

    ts: EventTime
    name: str
    value: float
    labels: Labels = field(default_factory=dict)

    @property
    def key(self) -> str:
        return series_key(self.name, self.labels)


@dataclass(frozen=True, slots=True)
class LogRecord:
    ts: EventTime
    message: str
    level: Level = Level.INFO
    labels: Labels = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Prediction:
    ts: EventTime
    model: str
    id: str
    features: Mapping[str, float | str]
    prediction: float | int | str
    score: float | None = None
    version: str | None = None
    labels: Labels = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GroundTruth:
    """A late label for a prediction, joined by ``model`` and ``id``."""

    ts: EventTime
    model: str
    id: str
    label: float | int | str


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert raised by another tool (single form or one element of an Alertmanager payload)."""

    ts: EventTime
    name: str
    status: AlertStatus
    severity: Severity
    fingerprint: str
    labels: Labels = field(default_factory=dict)
    annotations: Labels = field(default_factory=dict)
    starts_at: EventTime | None = None
    ends_at: EventTime | None = None
    generator_url: str | None = None

    @property
    def id(self) -> str:
        """Alert id as it appears in an incident's ``alerts`` list."""
        return f"am-{self.fingerprint}"


@dataclass(frozen=True, slots=True)
class Change:
    """A deploy, config change, scale event, feature flag or infra change."""

    ts: EventTime
    kind: str
    service: str
    version: str | None = None
    description: str = ""
    labels: Labels = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TopologyNode:
    id: str
    kind: str = "service"


@dataclass(frozen=True, slots=True)
class TopologyEdge:
    """``source`` depends on ``target``: a fault in ``target`` shows up in ``source``."""

    source: str
    target: str
    kind: str = "calls"


@dataclass(frozen=True, slots=True)
class TopologyUpdate:
    ts: EventTime
    mode: TopologyMode
    nodes: tuple[TopologyNode, ...] = ()
    edges: tuple[TopologyEdge, ...] = ()


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that could not be decoded or validated: a dead letter, never an exception."""

    source: str
    error: str
    value: bytes
    partition: int | None = None
    offset: int | None = None

    def to_wire(self) -> JsonDict:
        out: JsonDict = {
            "source": self.source,
            "partition": self.partition,
            "offset": self.offset,
            "error": self.error,
        }
        try:
            out["value"] = self.value.decode("utf-8")
        except UnicodeDecodeError:
            import base64

            out["value"] = base64.b64encode(self.value).decode("ascii")
            out["encoding"] = "base64"
        return out


InputEvent: TypeAlias = (
    MetricPoint | LogRecord | Prediction | GroundTruth | Alert | Change | TopologyUpdate
)


# ---------------------------------------------------------------------------------------------
# Outputs


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

    def to_wire(self) -> JsonDict:
        return {
            "id": self.id,
            "ts": self.ts,
            "kind": self.kind.value,
            "node": self.node,
            "subject": self.subject,
            "score": self.score,
            "severity": self.severity.value,
            "detail": self.detail,
        }


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

    def to_wire(self) -> JsonDict:
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
        return out


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


@dataclass(frozen=True, slots=True)
class IncidentSnapshot:
    """What the correlate stage hands to the rank stage: an incident and everything about it.

    ``incident`` has no root causes yet. ``nodes``/``edges`` are the topology neighbourhood of
    the incident's nodes (callers, callees and hosts within two hops), so ranking needs no
    global state. ``changes`` are the change events near the incident's onset.
    """

    incident: Incident
    anomalies: tuple[Anomaly, ...] = ()
    alerts: tuple[Alert, ...] = ()
    changes: tuple[Change, ...] = ()
    nodes: tuple[TopologyNode, ...] = ()
    edges: tuple[TopologyEdge, ...] = ()


OutputEvent: TypeAlias = Anomaly | Incident | Action | RetrainRequest | Rejected
