"""What a worker keeps per input partition: its position, its intake and its snapshot.

* ``Position``: next offset to read, event-time watermark, topology applied, and (incident
  tasks) the newest watermark of each upstream source.
* ``PartitionIntake``: the pipeline's first stage (``engine.ingest.intake.IntakeStage``) for
  one detect/context partition, source ``topic[partition]``, exactly as the embedded runtime
  runs it for its files: lateness judged per producer (``host`` label, ...), too-late events
  become dead letters ``late: ...`` (with the record's topic, partition, offset and value),
  metric points pass the live-series cap (``runtime.max_series``, per partition here: each
  partition's series state lives and moves with it), and the partition's watermark (what the
  detect stage gets as ``now`` and what is published to the incident stage) is the source's
  robust event time, never moved back. ``clock`` is the worker's wall time (only used to tell
  idle producers; the tracker's idle clock bounds a jump).
* Snapshots: ``snapshot`` / ``position_from`` / ``intake_from``. Version 3 keeps the intake
  state (``intake``); version 2 kept the tracker's marks alone (``marks``) and version 1 only
  a watermark: both restore (``intake_from``), the series guard then learns its series afresh.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.checkpoint import Snapshot
from connectors.kafka.config import RecordEncoding
from connectors.kafka.decoder import Record, decode_batch
from engine.detect.cardinality import Eviction
from engine.events import EventTime, InputEvent, InputKind, Rejected
from engine.ingest.intake import IntakeStage, IntakeState, upgrade_marks
from engine.ingest.marks import WatermarkState

SNAPSHOT_VERSION = 3
"""3: detect/context snapshots carry the intake state (``intake``: marks and live series);
2: the watermark tracker's state alone (``marks``); 1: neither (a fresh one at the saved
watermark)."""


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
class PartitionIntake:
    """The intake stage and its state for one detect/context partition."""

    stage: IntakeStage = field(default_factory=IntakeStage)
    state: IntakeState = field(default_factory=IntakeState)

    @property
    def marks(self) -> WatermarkState:
        return self.state.marks

    def judge(
        self,
        kind: InputKind,
        topic: str,
        partition: int,
        records: Sequence[Record],
        position: Position,
        clock: float,
        encoding: RecordEncoding = "json",
    ) -> tuple[list[InputEvent], list[Eviction], list[Rejected]]:
        """Decode ``records`` and run the intake: the events kept, the series evicted, the
        dead letters (undecodable records, too-late events); moves ``position`` (offset;
        watermark to the partition's robust event time, never back)."""
        events, rejected = decode_batch(kind, topic, partition, records, encoding)
        key = f"{topic}[{partition}]"
        self.state, kept, evicted, late = self.stage.process_source(
            self.state, key, events, now=clock
        )
        if late:
            rejected += _late_letters(kind, topic, partition, records, late, encoding)
        position.next_offset = records[-1].offset + 1
        mark = self.state.marks.sources.get(key)
        if mark is not None and mark[0] > position.watermark:
            position.watermark = mark[0]
        return kept, evicted, rejected


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


def snapshot(
    position: Position, state: dict[str, Any] | None, intake: IntakeState | None = None
) -> Snapshot:
    """A task's snapshot (``intake``: detect/context tasks)."""
    out: Snapshot = {
        "version": SNAPSHOT_VERSION,
        "offset": position.next_offset,
        "watermark": position.watermark,
        "topology_offset": position.topology_offset,
        "sources": {src: list(mark) for src, mark in position.sources.items()},
        "state": state,
    }
    if intake is not None:
        out["intake"] = intake.to_dict()
    return out


def position_from(snap: Snapshot | None) -> Position:
    if snap is None:
        return Position()
    sources = {src: list(mark) for src, mark in snap.get("sources", {}).items()}
    return Position(snap["offset"], snap["watermark"], snap["topology_offset"], sources)


def intake_from(
    snap: Snapshot | None, topic: str, partition: int, stage: IntakeStage
) -> PartitionIntake:
    """A detect/context task's intake restored from its snapshot, any version."""
    intake = PartitionIntake(stage, stage.initial_state())
    if snap is None:
        return intake
    if (data := snap.get("intake")) is not None:
        intake.state = IntakeState.from_dict(data)
    elif (marks := snap.get("marks")) is not None:  # version 2
        intake.state = IntakeState.from_dict(upgrade_marks(marks))
    elif snap["watermark"] > 0.0:  # version 1: a fresh tracker at the saved watermark
        key = f"{topic}[{partition}]"
        intake.state.marks = WatermarkState(sources={key: [float(snap["watermark"]), 0.0, 0.0]})
    return intake
