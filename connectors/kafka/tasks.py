"""Per-partition processing: each owned input partition is a task with its own operator state.

Tasks do no I/O: they turn a list of consumer records into outputs and keep the position
(``next_offset``), the event-time watermark and the stage state that a snapshot captures.

* ``DetectTask`` — metrics/logs/predictions/labels partitions, a ``DetectStage`` state each.
* ``ContextTask`` — alerts/changes partitions: decode and validate only (stateless); the worker
  forwards the events to the repartition topic.
* ``IncidentTask`` — repartition-topic partitions (one scope each), an ``IncidentStage`` state;
  topology updates are broadcast to every incident task before its next batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from connectors.checkpoint import Snapshot
from connectors.kafka import envelope
from engine.events import (
    Anomaly,
    EventTime,
    InputEvent,
    InputKind,
    Rejected,
    TopologyUpdate,
)
from engine.ingest.decode import DECODERS, Origin, decode_record
from engine.ingest.errors import FieldError
from engine.pipeline import DetectStage, IncidentOutput, IncidentStage, StageState

SNAPSHOT_VERSION = 1
FAST_KINDS = frozenset({InputKind.METRICS, InputKind.LOGS, InputKind.PREDICTIONS, InputKind.LABELS})
"""Kinds whose one-object records ``decode_batch`` hands straight to the kind's decoder
(exactly what ``decode_record`` does for them); anything else takes the general path."""


class Record(Protocol):
    """The fields of an aiokafka ``ConsumerRecord`` a task reads."""

    offset: int
    timestamp: int
    value: bytes | None


@dataclass(slots=True)
class Position:
    """Where a task stands: next offset to read, event-time watermark, topology applied."""

    next_offset: int | None = None
    watermark: EventTime = 0.0
    topology_offset: int = 0

    def advance(self, records: Sequence[Record], events: Sequence[Any]) -> None:
        self.next_offset = records[-1].offset + 1
        for e in events:
            if e.ts > self.watermark:
                self.watermark = e.ts


def decode_batch(
    kind: InputKind, topic: str, partition: int, records: Sequence[Record]
) -> tuple[list[InputEvent], list[Rejected]]:
    """Decode records into events and dead letters (each carrying topic, partition, offset)."""
    events: list[InputEvent] = []
    rejected: list[Rejected] = []
    fast = DECODERS[kind] if kind in FAST_KINDS else None
    for r in records:
        raw = r.value
        if raw is None:
            rejected.append(Rejected(topic, "value: empty record", b"", partition, r.offset))
            continue
        if fast is not None:  # the hot path: one JSON object per record, no Origin built
            try:
                obj = orjson.loads(raw)
                if type(obj) is dict:
                    events.append(fast(obj, r.timestamp / 1000.0))
                    continue
            except (orjson.JSONDecodeError, FieldError):
                pass  # decode_record below re-decodes and says why
        origin = Origin(topic, partition, r.offset, r.timestamp / 1000.0)
        for e in decode_record(kind, raw, origin):
            if type(e) is Rejected:
                rejected.append(e)
            else:
                events.append(e)  # type: ignore[arg-type]  # not Rejected, so an InputEvent
    return events, rejected


@dataclass(slots=True)
class DetectTask:
    stage: DetectStage
    kind: InputKind
    topic: str
    partition: int
    state: StageState
    position: Position

    def process(self, records: Sequence[Record]) -> tuple[list[Anomaly], list[Rejected]]:
        events, rejected = decode_batch(self.kind, self.topic, self.partition, records)
        self.position.advance(records, events)
        self.state, found = self.stage.process(self.state, events, now=self.position.watermark)
        anomalies = [a for a in found if isinstance(a, Anomaly)]
        rejected += [r for r in found if isinstance(r, Rejected)]  # a detector's dead letters
        return anomalies, rejected

    def snapshot(self) -> Snapshot:
        return _snapshot(self.position, self.state.to_dict())


@dataclass(slots=True)
class ContextTask:
    kind: InputKind
    topic: str
    partition: int
    position: Position

    def process(self, records: Sequence[Record]) -> tuple[list[InputEvent], list[Rejected]]:
        events, rejected = decode_batch(self.kind, self.topic, self.partition, records)
        self.position.advance(records, events)
        return events, rejected

    def snapshot(self) -> Snapshot:
        return _snapshot(self.position, None)


@dataclass(slots=True)
class IncidentTask:
    stage: IncidentStage
    topic: str
    partition: int
    state: StageState
    position: Position

    def process(
        self, records: Sequence[Record], topology: Sequence[tuple[int, TopologyUpdate]]
    ) -> tuple[list[IncidentOutput], list[Rejected]]:
        """Apply topology updates not yet seen by this task, then the batch, in event order."""
        fresh = [u for off, u in topology if off >= self.position.topology_offset]
        if topology:
            self.position.topology_offset = topology[-1][0] + 1
        events: list[Any] = list(fresh)
        rejected: list[Rejected] = []
        for r in records:
            try:
                events.append(envelope.decode(r.value or b""))
            except (ValueError, KeyError, TypeError) as exc:
                reason = f"envelope: {type(exc).__name__}: {exc}"
                rejected.append(
                    Rejected(self.topic, reason, r.value or b"", self.partition, r.offset)
                )
        if records:
            self.position.advance(records, events)
        self.state, outs = self.stage.process(self.state, events, now=self.position.watermark)
        return outs, rejected

    def snapshot(self) -> Snapshot:
        return _snapshot(self.position, self.state.to_dict())


Task = DetectTask | ContextTask | IncidentTask


def _snapshot(position: Position, state: dict[str, Any] | None) -> Snapshot:
    return {
        "version": SNAPSHOT_VERSION,
        "offset": position.next_offset,
        "watermark": position.watermark,
        "topology_offset": position.topology_offset,
        "state": state,
    }


def position_from(snapshot: Snapshot | None) -> Position:
    if snapshot is None:
        return Position()
    return Position(snapshot["offset"], snapshot["watermark"], snapshot["topology_offset"])
