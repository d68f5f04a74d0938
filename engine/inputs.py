"""Input records of the wire contract, as ``engine.ingest.decode`` yields them.

MetricPoint, LogRecord, Prediction, GroundTruth, Alert, Change, TopologyUpdate, and ``Rejected``
for anything undecodable. ``engine.events`` re-exports all of them; import from there.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

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
