"""Input records of the wire contract, as ``engine.ingest.decode`` yields them.

MetricPoint, LogRecord, Prediction, GroundTruth, Alert, Change, TopologyUpdate, and ``Rejected``
for anything undecodable. ``engine.events`` re-exports all of them; import from there.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from engine.vocabulary import EventTime, JsonDict, Labels, Severity, series_key


class Level(enum.IntEnum):
    """Log level; the order is the severity order."""

    TRACE = 0
    DEBUG = 1
    INFO = 2
    WARN = 3
    ERROR = 4
    FATAL = 5


class AlertStatus(enum.Enum):
    FIRING = "firing"
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

    def to_wire(self) -> JsonDict:
        """The ``metrics`` record (spec), which ``engine.ingest.decode`` reads back."""
        return {"ts": self.ts, "name": self.name, "value": self.value, "labels": self.labels}


@dataclass(frozen=True, slots=True)
class LogRecord:
    ts: EventTime
    message: str
    level: Level = Level.INFO
    labels: Labels = field(default_factory=dict)

    def to_wire(self) -> JsonDict:
        """The ``logs`` record (spec), which ``engine.ingest.decode`` reads back."""
        return {"ts": self.ts, "message": self.message, "level": self.level.name,
                "labels": self.labels}


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

    def to_wire(self) -> JsonDict:
        """The single-alert form of the wire contract (spec: alerts), which
        ``engine.ingest.decode`` reads back to an equal ``Alert``."""
        out: JsonDict = {
            "ts": self.ts,
            "name": self.name,
            "status": self.status.value,
            "severity": self.severity.value,
            "fingerprint": self.fingerprint,
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
        }
        if self.starts_at is not None:
            out["startsAt"] = self.starts_at
        if self.ends_at is not None:
            out["endsAt"] = self.ends_at
        if self.generator_url is not None:
            out["generatorURL"] = self.generator_url
        return out

    def to_dict(self) -> JsonDict:
        """Plain-data form (operator state, the Kafka repartition envelope); not the wire's
        input form (``to_wire``)."""
        return {
            "ts": self.ts,
            "name": self.name,
            "status": self.status.value,
            "severity": self.severity.value,
            "fingerprint": self.fingerprint,
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "generator_url": self.generator_url,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Alert:
        return cls(
            ts=d["ts"],
            name=d["name"],
            status=AlertStatus(d["status"]),
            severity=Severity(d["severity"]),
            fingerprint=d["fingerprint"],
            labels=d["labels"],
            annotations=d["annotations"],
            starts_at=d["starts_at"],
            ends_at=d["ends_at"],
            generator_url=d["generator_url"],
        )


@dataclass(frozen=True, slots=True)
class Change:
    """A deploy, config change, scale event, feature flag or infra change."""

    ts: EventTime
    kind: str
    service: str
    version: str | None = None
    description: str = ""
    labels: Labels = field(default_factory=dict)

    def to_wire(self) -> JsonDict:
        """The ``changes`` record (spec), which ``engine.ingest.decode`` reads back."""
        out: JsonDict = {
            "ts": self.ts,
            "kind": self.kind,
            "service": self.service,
            "description": self.description,
            "labels": self.labels,
        }
        if self.version is not None:
            out["version"] = self.version
        return out

    def to_dict(self) -> JsonDict:
        """Plain-data form (operator state, the Kafka repartition envelope)."""
        return {
            "ts": self.ts,
            "kind": self.kind,
            "service": self.service,
            "version": self.version,
            "description": self.description,
            "labels": dict(self.labels),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Change:
        return cls(
            ts=d["ts"],
            kind=d["kind"],
            service=d["service"],
            version=d["version"],
            description=d["description"],
            labels=d["labels"],
        )


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

    def to_dict(self) -> JsonDict:
        """Plain-data form (operator state): nodes and edges as lists."""
        return {
            "ts": self.ts,
            "mode": self.mode.value,
            "nodes": [[n.id, n.kind] for n in self.nodes],
            "edges": [[e.source, e.target, e.kind] for e in self.edges],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TopologyUpdate:
        return cls(
            ts=d["ts"],
            mode=TopologyMode(d["mode"]),
            nodes=tuple(TopologyNode(n[0], n[1]) for n in d["nodes"]),
            edges=tuple(TopologyEdge(e[0], e[1], e[2]) for e in d["edges"]),
        )


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
