"""Per-partition processing: each owned input partition is a task with its own operator state.

Tasks do no I/O: they turn a list of consumer records into outputs and keep the position
(``next_offset``), the event-time watermark and the stage state that a snapshot captures.

* ``DetectTask`` — metrics/logs/predictions/labels partitions, a ``DetectStage`` state each.
* ``ContextTask`` — alerts/changes partitions: decode and validate only (stateless); the worker
  forwards the events to the repartition topic.
* ``IncidentTask`` — repartition-topic partitions (one scope each), an ``IncidentStage`` state;
  topology updates are broadcast to every incident task before its next batch. Its ``now`` is
  the upstream partitions' combined watermark (``connectors.kafka.watermarks``), so the stage's
  reorder slot releases events in event time whatever order they arrived in.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.checkpoint import Snapshot
from connectors.kafka import envelope
from connectors.kafka.decoder import Record, decode_batch
from connectors.kafka.telemetry import METRICS
from connectors.kafka.watermarks import observe_mark, stage_time
from engine.events import (
    Anomaly,
    EventTime,
    InputEvent,
    InputKind,
    Rejected,
    TopologyUpdate,
)
from engine.pipeline import DetectStage, IncidentOutput, IncidentStage, StageState

SNAPSHOT_VERSION = 1
log = logging.getLogger("vigil.incident")


@dataclass(slots=True)
class Position:
    """Where a task stands: next offset to read, event-time watermark, topology applied, and
    (incident tasks) the newest watermark of each upstream source ``{src: [ts, idle]}``."""

    next_offset: int | None = None
    watermark: EventTime = 0.0
    topology_offset: int = 0
    sources: dict[str, list[float]] = field(default_factory=dict)

    def advance(self, records: Sequence[Record], events: Sequence[Any]) -> None:
        self.next_offset = records[-1].offset + 1
        for e in events:
            if e.ts > self.watermark:
                self.watermark = e.ts


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
    hold_s: float = 5.0
    expected_sources: frozenset[str] = frozenset()
    """Every upstream ``topic/partition``: the stage stays at ``NO_TIME`` until each reported."""

    def process(
        self, records: Sequence[Record], topology: Sequence[tuple[int, TopologyUpdate]]
    ) -> tuple[list[IncidentOutput], list[Rejected]]:
        """Apply topology updates not yet seen by this task and the batch's events; the stage
        releases them in event time as the upstream watermarks advance."""
        fresh = [u for off, u in topology if off >= self.position.topology_offset]
        if topology:
            self.position.topology_offset = topology[-1][0] + 1
        events: list[Any] = list(fresh)
        rejected: list[Rejected] = []
        for r in records:
            try:
                item = envelope.decode(r.value or b"")
            except (ValueError, KeyError, TypeError) as exc:
                reason = f"envelope: {type(exc).__name__}: {exc}"
                rejected.append(
                    Rejected(self.topic, reason, r.value or b"", self.partition, r.offset)
                )
                continue
            if isinstance(item, envelope.Watermark):
                observe_mark(self.position.sources, item)
            else:
                events.append(item)
        if records:
            self.position.advance(records, events)
        now = stage_time(self.position.sources, self.hold_s, self.expected_sources)
        reorder = self.state.slots["reorder"]
        before = (self._late_count(), reorder.released_to, set(reorder.released))
        counts = dict(reorder.counts)
        self.state, outs = self.stage.process(self.state, events, now=now)
        METRICS.observe_reorder(counts, self.state.slots["reorder"].counts)
        if self._late_count() > before[0]:
            late = [
                (getattr(e, "id", "?"), e.ts)
                for e in events
                if before[1] is not None
                and e.ts <= before[1]
                and getattr(e, "id", "") not in before[2]
            ]
            log.warning(
                "late events partition=%d offsets=%s..%s released_to=%s now=%s late=%s sources=%s",
                self.partition,
                records[0].offset if records else None,
                records[-1].offset if records else None,
                before[1],
                now,
                late,
                self.position.sources,
            )
        rejected += [o for o in outs if isinstance(o, Rejected)]  # too late to de-duplicate
        return [o for o in outs if not isinstance(o, Rejected)], rejected

    def _late_count(self) -> int:
        counts = self.state.slots["reorder"].counts
        return int(counts["late"] + counts["too_late"])

    def snapshot(self) -> Snapshot:
        return _snapshot(self.position, self.state.to_dict())


Task = DetectTask | ContextTask | IncidentTask


def _snapshot(position: Position, state: dict[str, Any] | None) -> Snapshot:
    return {
        "version": SNAPSHOT_VERSION,
        "offset": position.next_offset,
        "watermark": position.watermark,
        "topology_offset": position.topology_offset,
        "sources": {src: list(mark) for src, mark in position.sources.items()},
        "state": state,
    }


def position_from(snapshot: Snapshot | None) -> Position:
    if snapshot is None:
        return Position()
    sources = {src: list(mark) for src, mark in snapshot.get("sources", {}).items()}
    return Position(snapshot["offset"], snapshot["watermark"], snapshot["topology_offset"], sources)


def source_positions(tasks: Iterable[Task]) -> Iterator[tuple[str, Position]]:
    """``(topic/partition, position)`` of the tasks whose watermarks the incident stage needs."""
    for task in tasks:
        if isinstance(task, DetectTask | ContextTask):
            yield f"{task.topic}/{task.partition}", task.position
