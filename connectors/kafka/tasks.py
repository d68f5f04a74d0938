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

Event time of a detect/context partition (``PartitionTime``): its decoded events go through
``engine.ingest.watermark.WatermarkTracker`` as one source ``topic[partition]``, exactly as the
embedded runtime's files and partitions do: lateness is judged per producer (``host`` label,
...), too-late events become dead letters ``late: ...`` (with the record's topic, partition,
offset and value), and the task's watermark (what the detect stage gets as ``now`` and what is
published to the incident stage) is the source's robust event time, never moved back: a host
whose clock runs ahead does not drag it forward. ``clock`` is the worker's wall time (only used
to tell idle producers; the tracker's idle clock bounds a jump).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.checkpoint import Snapshot
from connectors.kafka import envelope
from connectors.kafka.config import RecordEncoding
from connectors.kafka.decoder import Record, decode_batch
from connectors.kafka.telemetry import METRICS
from connectors.kafka.watermarks import NO_TIME, observe_mark, stage_time
from connectors.logformat import summarize
from connectors.metrics import alert_evictions
from engine.events import (
    Anomaly,
    EventTime,
    InputEvent,
    InputKind,
    Rejected,
    TopologyUpdate,
)
from engine.ingest.watermark import WatermarkState, WatermarkTracker
from engine.pipeline import DetectStage, IncidentOutput, IncidentStage, StageState

SNAPSHOT_VERSION = 2
"""2: detect/context snapshots carry the watermark tracker's state (``marks``); a version 1
snapshot starts a fresh tracker at its saved watermark."""
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
class PartitionTime:
    """Event time of one detect/context partition: the watermark tracker and its state."""

    tracker: WatermarkTracker = field(default_factory=WatermarkTracker)
    marks: WatermarkState = field(default_factory=WatermarkState)

    def judge(
        self,
        kind: InputKind,
        topic: str,
        partition: int,
        records: Sequence[Record],
        position: Position,
        clock: float,
        encoding: RecordEncoding = "json",
    ) -> tuple[list[InputEvent], list[Rejected]]:
        """Decode ``records``, drop the too-late events into the dead letters and move
        ``position`` (offset; watermark to the partition's robust event time, never back)."""
        events, rejected = decode_batch(kind, topic, partition, records, encoding)
        key = f"{topic}[{partition}]"
        self.marks, kept, late = self.tracker.process_source(self.marks, key, events, now=clock)
        if late:
            rejected += _late_letters(kind, topic, partition, records, late, encoding)
        position.next_offset = records[-1].offset + 1
        mark = self.marks.sources.get(key)
        if mark is not None and mark[0] > position.watermark:
            position.watermark = mark[0]
        return kept, rejected

    def restore(self, snapshot: Snapshot | None, key: str) -> None:
        """The tracker state of ``snapshot`` (version 1: a fresh one at its watermark)."""
        if snapshot is None:
            return
        marks = snapshot.get("marks")
        if marks is not None:
            self.marks = WatermarkState.from_dict(marks)
        elif snapshot["watermark"] > 0.0:
            self.marks = WatermarkState(sources={key: [float(snapshot["watermark"]), 0.0, 0.0]})


def _late_letters(
    kind: InputKind,
    topic: str,
    partition: int,
    records: Sequence[Record],
    late: list[tuple[int, str]],
    encoding: RecordEncoding = "json",
) -> list[Rejected]:
    """Dead letters of the too-late events ``(index in the batch's events, reason)``, each with
    its record's offset and value. Rare: each record is decoded again alone to count its
    events (decoding is per record, so the indices line up)."""
    owner: list[Record] = []
    for r in records:
        owner += [r] * len(decode_batch(kind, topic, partition, [r], encoding)[0])
    letters = []
    for index, reason in late:
        r = owner[index]
        letters.append(Rejected(topic, reason, r.value or b"", partition, r.offset))
    return letters


@dataclass(slots=True)
class DetectTask:
    stage: DetectStage
    kind: InputKind
    topic: str
    partition: int
    state: StageState
    position: Position
    event_time: PartitionTime = field(default_factory=PartitionTime)
    encoding: RecordEncoding = "json"
    """How the topic's records are encoded (``Topics.encoding_of``)."""

    def process(
        self, records: Sequence[Record], *, clock: float
    ) -> tuple[list[Anomaly], list[Rejected]]:
        """Decode, judge event time (``clock``: the worker's wall time), detect."""
        events, rejected = self.event_time.judge(
            self.kind, self.topic, self.partition, records, self.position, clock, self.encoding
        )
        self.state, found = self.stage.process(self.state, events, now=self.position.watermark)
        anomalies = [a for a in found if isinstance(a, Anomaly)]
        rejected += [r for r in found if isinstance(r, Rejected)]  # a detector's dead letters
        return anomalies, rejected

    def snapshot(self) -> Snapshot:
        return _snapshot(self.position, self.state.to_dict(), self.event_time.marks)


@dataclass(slots=True)
class ContextTask:
    kind: InputKind
    topic: str
    partition: int
    position: Position
    event_time: PartitionTime = field(default_factory=PartitionTime)

    def process(
        self, records: Sequence[Record], *, clock: float
    ) -> tuple[list[InputEvent], list[Rejected]]:
        """Decode and judge event time (``clock``: the worker's wall time)."""
        return self.event_time.judge(
            self.kind, self.topic, self.partition, records, self.position, clock
        )

    def snapshot(self) -> Snapshot:
        return _snapshot(self.position, None, self.event_time.marks)


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
        counts, evicted = dict(reorder.counts), alert_evictions(self.state)
        self.state, outs = self.stage.process(self.state, events, now=now)
        METRICS.observe_reorder(counts, self.state.slots["reorder"].counts)
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
        counts = self.state.slots["reorder"].counts
        return int(counts["late"] + counts["too_late"])

    def snapshot(self) -> Snapshot:
        return _snapshot(self.position, self.state.to_dict())


Task = DetectTask | ContextTask | IncidentTask


def _snapshot(
    position: Position, state: dict[str, Any] | None, marks: WatermarkState | None = None
) -> Snapshot:
    snapshot: Snapshot = {
        "version": SNAPSHOT_VERSION,
        "offset": position.next_offset,
        "watermark": position.watermark,
        "topology_offset": position.topology_offset,
        "sources": {src: list(mark) for src, mark in position.sources.items()},
        "state": state,
    }
    if marks is not None:
        snapshot["marks"] = marks.to_dict()
    return snapshot


def position_from(snapshot: Snapshot | None) -> Position:
    if snapshot is None:
        return Position()
    sources = {src: list(mark) for src, mark in snapshot.get("sources", {}).items()}
    return Position(snapshot["offset"], snapshot["watermark"], snapshot["topology_offset"], sources)


def event_time_from(
    snapshot: Snapshot | None, topic: str, partition: int, tracker: WatermarkTracker
) -> PartitionTime:
    """A detect/context task's event time restored from its snapshot (any version)."""
    event_time = PartitionTime(tracker)
    event_time.restore(snapshot, f"{topic}[{partition}]")
    return event_time


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
