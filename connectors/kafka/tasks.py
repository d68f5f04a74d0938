"""Per-partition processing: each owned input partition is a task with its own operator state.

Tasks do no I/O: they turn a list of consumer records into outputs and keep the position
(``next_offset``), the event-time watermark and the stage state that a snapshot captures.

* ``DetectTask`` — metrics/logs/predictions/labels partitions, a ``DetectStage`` state each.
* ``ContextTask`` — alerts/changes partitions: decode and validate only; the worker forwards
  the events to the repartition topic.
* ``IncidentTask`` — repartition-topic partitions (one scope each), an ``IncidentStage`` state;
  topology updates are broadcast to every incident task before its next batch. Its ``now`` is
  the upstream partitions' combined watermark (``connectors.kafka.watermarks``), so the stage's
  reorder slot releases events in event time whatever order they arrived in.

Detect and context tasks run the pipeline's first stage, ``IntakeStage``, on their partition
(``connectors.kafka.partition.PartitionIntake``: event time per producer, the series cap),
the same stage the embedded runtime runs; positions and snapshots are in
``connectors.kafka.partition``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.checkpoint import Snapshot
from connectors.kafka import envelope
from connectors.kafka.config import RecordEncoding
from connectors.kafka.decoder import Record
from connectors.kafka.partition import (
    SNAPSHOT_VERSION,
    PartitionIntake,
    Position,
    intake_from,
    position_from,
    snapshot,
)
from connectors.kafka.telemetry import METRICS
from connectors.kafka.watermarks import NO_TIME, observe_mark, stage_time
from connectors.logformat import summarize
from connectors.metrics import alert_evictions
from engine.events import Anomaly, EventTime, InputEvent, InputKind, Rejected, TopologyUpdate
from engine.pipeline import DetectStage, IncidentOutput, IncidentStage
from engine.state import DetectState, IncidentState

__all__ = ["SNAPSHOT_VERSION", "ContextTask", "DetectTask", "IncidentTask", "Position", "Task",
           "intake_from", "pipeline_watermark", "position_from", "source_positions"]
log = logging.getLogger("vigil.incident")


@dataclass(slots=True)
class DetectTask:
    stage: DetectStage
    kind: InputKind
    topic: str
    partition: int
    state: DetectState
    position: Position
    intake: PartitionIntake = field(default_factory=PartitionIntake)
    encoding: RecordEncoding = "json"
    """How the topic's records are encoded (``Topics.encoding_of``)."""

    def process(
        self, records: Sequence[Record], *, clock: float
    ) -> tuple[list[Anomaly], list[Rejected]]:
        """Decode, run the intake (``clock``: the worker's wall time), detect."""
        events, evicted, rejected = self.intake.judge(
            self.kind, self.topic, self.partition, records, self.position, clock, self.encoding
        )
        if evicted:
            self.stage.forget(self.state, [e.key for e in evicted])
        self.state, found = self.stage.process(self.state, events, now=self.position.watermark)
        anomalies = [a for a in found if isinstance(a, Anomaly)]
        rejected += [r for r in found if isinstance(r, Rejected)]  # a detector's dead letters
        return anomalies, rejected

    def snapshot(self) -> Snapshot:
        return snapshot(self.position, self.state.to_dict(), self.intake.state)


@dataclass(slots=True)
class ContextTask:
    kind: InputKind
    topic: str
    partition: int
    position: Position
    intake: PartitionIntake = field(default_factory=PartitionIntake)

    def process(
        self, records: Sequence[Record], *, clock: float
    ) -> tuple[list[InputEvent], list[Rejected]]:
        """Decode and run the intake (``clock``: the worker's wall time; alerts and changes
        only: no series to cap)."""
        events, _, rejected = self.intake.judge(
            self.kind, self.topic, self.partition, records, self.position, clock
        )
        return events, rejected

    def snapshot(self) -> Snapshot:
        return snapshot(self.position, None, self.intake.state)


@dataclass(slots=True)
class IncidentTask:
    stage: IncidentStage
    topic: str
    partition: int
    state: IncidentState
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
        reorder = self.state.reorder
        before = (self._late_count(), reorder.released_to, set(reorder.released))
        counts, evicted = dict(reorder.counts), alert_evictions(self.state)
        self.state, outs = self.stage.process(self.state, events, now=now)
        METRICS.observe_reorder(counts, self.state.reorder.counts)
        METRICS.observe_alert_memory(evicted, alert_evictions(self.state))
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
                summarize(late),
                summarize(self.position.sources),
            )
        rejected += [o for o in outs if isinstance(o, Rejected)]  # too late to de-duplicate
        return [o for o in outs if not isinstance(o, Rejected)], rejected

    def _late_count(self) -> int:
        counts = self.state.reorder.counts
        return int(counts["late"] + counts["too_late"])

    def snapshot(self) -> Snapshot:
        return snapshot(self.position, self.state.to_dict())


Task = DetectTask | ContextTask | IncidentTask


def source_positions(tasks: Iterable[Task]) -> Iterator[tuple[str, Position]]:
    """``(topic/partition, position)`` of the tasks whose watermarks the incident stage needs."""
    for task in tasks:
        if isinstance(task, DetectTask | ContextTask):
            yield f"{task.topic}/{task.partition}", task.position


def pipeline_watermark(tasks: Iterable[Task]) -> EventTime | None:
    """The event time this worker's pipeline has reached (``vigil_event_time_lag_seconds``):
    the slowest owned incident stage's ``now`` once it has one, else (no incident partition
    with a time) the newest watermark of the owned detect/context partitions; ``None``
    before any."""
    incident: list[EventTime] = []
    upstream: list[EventTime] = []
    for task in tasks:
        if isinstance(task, IncidentTask):
            now = stage_time(task.position.sources, task.hold_s, task.expected_sources)
            if now != NO_TIME:
                incident.append(now)
        elif task.position.watermark > 0.0:
            upstream.append(task.position.watermark)
    if incident:
        return min(incident)
    return max(upstream) if upstream else None
