"""One runner for the pipeline: source -> ``engine.pipeline.Pipeline`` -> sink -> checkpoint.

Every runtime hands the runner batches of decoded events and gets the pipeline's outputs in a
sink; the engine's stages (intake, detect, incident) and the metrics of each stage are the
runner's, so no runtime wires the pipeline's edges itself.

Ports (``typing.Protocol``; stable: ``vigil replay`` and ``vigil serve`` drive ``Runner``
through them):

* **Source** -- ``Iterable[list[Sourced]]``: batches of decoded events, each with its source
  (file, topic/partition, HTTP route) and offset. ``Runner.run(source)`` drains one and ends
  the input; a push runtime (HTTP ingest) calls ``Runner.step(batch)`` per batch instead.
* **Sink** -- ``write(outputs)`` receives each batch's outputs in order: dead letters of
  too-late events, anomalies (with a detector's dead letters first), incident records, decided
  ``Action``s, ``RetrainRequest``s, the incident stage's dead letters. ``flush()`` makes what
  was written durable; it is called first in every checkpoint.
* **CheckpointStore** -- ``connectors.checkpoint.CheckpointStore`` (``load(keys)``,
  ``save({key: bytes})``; ``file.FileCheckpointStore`` for a local directory, ``memory`` in
  tests). The runner keeps one snapshot under ``Runner.key``: ``{"version", "state": the
  pipeline state (``Pipeline.restore_state`` reads every version), "clock": the last
  processing time, "events_in"}``.
* **Clock** -- ``now(batch) -> float``: processing time when ``batch`` is handed in (the
  intake's ``now``: idle sources and producers). ``EventClock`` for a replay (the newest event
  time seen: a replay has no clock of its own), ``WallClock`` for live ingest.

Checkpoint order (``Runner.checkpoint``): **flush the sink -> write the state snapshot**; a
source with offsets commits them after ``checkpoint`` returns. Delivery is thus at-least-once:
after a crash the batches since the last checkpoint are run again and give the same ids.

The Kafka worker keeps one state per partition, its async topic sinks, its checkpoint order
and offsets (``connectors.kafka.worker``); its detect/context tasks run the same intake stage
(``connectors.kafka.partition``) at this module's ``WallClock`` and count through
``count_intake`` / ``observe_intakes`` (``connectors.kafka.taskrun``), as ``Runner`` does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

import orjson

from connectors.checkpoint import CheckpointStore, encode_snapshot
from connectors.metrics import VigilMetrics, alert_evictions
from engine.events import EventTime, InputEvent
from engine.ingest.intake import IntakeStage, IntakeState
from engine.ingest.marks import Sourced
from engine.pipeline import Pipeline, PipelineOutput
from engine.state import PipelineState

RUNNER_SNAPSHOT_VERSION: Final = 1
STATE_SIZE_EVERY_S: Final = 10.0
"""Wall time between two measurements of the state size (it serializes the whole state)."""


Observe = Callable[[list[InputEvent], list[PipelineOutput]], None]
"""``(admitted events, outputs)`` of each batch, before the sink gets them (the web console)."""


class Sink(Protocol):
    """Where the pipeline's outputs go (files, topics, the console)."""

    def write(self, outputs: Sequence[PipelineOutput]) -> None: ...

    def flush(self) -> None: ...


class Clock(Protocol):
    """Processing time for the intake stage."""

    def now(self, batch: Sequence[Sourced]) -> float: ...


@dataclass(slots=True)
class EventClock:
    """A replay's processing time: the newest event time seen (never moves back)."""

    last: float = float("-inf")

    def now(self, batch: Sequence[Sourced]) -> float:
        if batch:
            self.last = max(self.last, max(item.event.ts for item in batch))
        return self.last


class WallClock:
    """Live processing time: the machine's clock."""

    def now(self, batch: Sequence[Sourced]) -> float:
        return time.time()


@dataclass(slots=True)
class Runner:
    """Runs batches through ``pipeline``, writes outputs to ``sink``, counts into ``metrics``.

    ``observe`` (optional) sees ``(admitted events, outputs)`` of each batch before the sink
    does (the web console).
    """

    pipeline: Pipeline
    sink: Sink
    clock: Clock = field(default_factory=EventClock)
    metrics: VigilMetrics = field(default_factory=VigilMetrics)
    observe: Observe | None = None
    key: str = "pipeline"
    state: PipelineState = field(init=False)
    last_now: float | None = None
    events_in: int = 0
    sized_at: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.state = self.pipeline.initial_state()
        observe_intakes(self.metrics, self.pipeline.intake, [])

    def run(self, source: Iterable[list[Sourced]]) -> None:
        """Every batch of ``source``, then ``finish``."""
        for batch in source:
            self.step(batch)
        self.finish()

    def step(self, batch: Sequence[Sourced]) -> list[PipelineOutput]:
        """Intake at the clock's ``now``, then detect and correlate at the intake's event
        time; the outputs go to the sink and are returned."""
        if not batch:
            return []
        self.events_in += len(batch)
        now = self.last_now = self.clock.now(batch)
        for item in batch:
            self.metrics.records_in.labels(topic=item.source).inc()
        started = time.perf_counter()
        intake = self.state.intake
        before = IntakeCounts.of(intake)
        events, rejected = self.pipeline.admit(self.state, batch, now=now)
        event_time = self.pipeline.intake.event_time(intake, now=now)
        count_intake(self.metrics, before, IntakeCounts.of(intake))
        observe_intakes(self.metrics, self.pipeline.intake, [intake])
        self.metrics.observe_event_time(now, event_time)
        self.metrics.stage_latency.labels(stage="intake").observe(time.perf_counter() - started)
        self.sink.write(rejected)
        if event_time is None:
            return [*rejected]
        return [*rejected, *self.advance(events, event_time)]

    def finish(self) -> list[PipelineOutput]:
        """The input is over: event time moves to the clock's last ``now`` (a replay's newest
        event), so every window closes and every held event is released."""
        if self.last_now is None:
            self.observe_state()
            return []
        out = self.advance([], self.last_now)
        self.metrics.observe_event_time(self.last_now, self.last_now)
        self.observe_state()
        return out

    def advance(self, events: list[InputEvent], now: EventTime) -> list[PipelineOutput]:
        """Detect and correlate admitted ``events`` at event time ``now``; write the outputs."""
        metrics, incident = self.metrics, self.state.incident
        counts, evicted = dict(incident.reorder.counts), alert_evictions(incident)
        with metrics.stage_latency.labels(stage="pipeline").time():
            self.state, outputs = self.pipeline.advance(self.state, events, now=now)
        incident = self.state.incident
        metrics.observe_reorder(counts, incident.reorder.counts)
        metrics.observe_alert_memory(evicted, alert_evictions(incident))
        models = self.state.detect.models
        if models.models:
            metrics.models.observe(models)
        if self.observe is not None:
            self.observe(events, outputs)
        with metrics.stage_latency.labels(stage="deliver").time():
            self.sink.write(outputs)
        if time.monotonic() - self.sized_at >= STATE_SIZE_EVERY_S:
            self.observe_state()
        return outputs

    def observe_state(self) -> None:
        """``vigil_state_size_bytes`` per stage: the state serialized as a checkpoint would be."""
        for stage in ("detect", "incident"):
            size = len(orjson.dumps(getattr(self.state, stage).to_dict()))
            self.metrics.state_size.labels(stage=stage).set(size)
        self.sized_at = time.monotonic()

    def snapshot(self) -> bytes:
        """The encoded state as ``checkpoint`` writes it (taken now: the state moves on)."""
        return encode_snapshot(
            {"version": RUNNER_SNAPSHOT_VERSION, "state": self.state.to_dict(),
             "clock": self.last_now, "events_in": self.events_in}
        )

    async def checkpoint(self, store: CheckpointStore) -> None:
        """Flush the sink, then write the state (the order that makes delivery at-least-once)."""
        self.sink.flush()
        await store.save({self.key: self.snapshot()})

    async def restore(self, store: CheckpointStore) -> bool:
        """The state of the last checkpoint under ``key``, if any (any pipeline state version:
        ``Pipeline.restore_state`` upgrades it)."""
        found = (await store.load([self.key])).get(self.key)
        if found is None:
            return False
        self.state = self.pipeline.restore_state(found["state"])
        self.last_now = found.get("clock")
        self.events_in = int(found.get("events_in", 0))
        if isinstance(self.clock, EventClock) and self.last_now is not None:
            self.clock.last = self.last_now
        return True


@dataclass(frozen=True, slots=True)
class IntakeCounts:
    """An intake state's running totals: late events, evicted producers, series refused at the
    cap and series evicted as idle."""

    late: int = 0
    too_late: int = 0
    producers_evicted: int = 0
    series_dropped: int = 0
    series_evicted: int = 0

    @classmethod
    def of(cls, state: IntakeState) -> IntakeCounts:
        counts, series = state.marks.counts, state.series
        return cls(counts.get("late", 0), counts.get("too_late", 0), state.marks.evicted,
                   series.dropped, series.evicted)


def count_intake(metrics: VigilMetrics, before: IntakeCounts, after: IntakeCounts) -> None:
    """Count what one batch's intake added (``after`` less ``before``). Deltas, not totals: a
    worker runs one intake per partition, and a restored state's totals were exported by the
    process that counted them."""
    counters = (
        (metrics.late_events.labels(lateness="late"), after.late - before.late),
        (metrics.late_events.labels(lateness="too_late"), after.too_late - before.too_late),
        (metrics.producers_evicted, after.producers_evicted - before.producers_evicted),
        (metrics.series_dropped.labels(kind="metrics"),
         after.series_dropped - before.series_dropped),
        (metrics.series_evicted.labels(kind="metrics"),
         after.series_evicted - before.series_evicted),
    )
    for counter, added in counters:  # each child exists (at 0) once a batch was counted
        if added > 0:
            counter.inc(added)


def observe_intakes(
    metrics: VigilMetrics, stage: IntakeStage, states: Iterable[IntakeState]
) -> None:
    """The gauges over every intake state of the process (one per owned partition in a
    worker): skewed producers, live series, the series cap."""
    skewed = live = 0
    for state in states:
        skewed += state.marks.skewed()
        live += len(state.series.live)
    metrics.skewed_producers.set(skewed)
    metrics.live_series.labels(kind="metrics").set(live)
    metrics.series_cap.labels(kind="metrics").set(stage.guard.max_series)


def batches(
    items: Iterable[Sourced], *, max_events: int = 5000, max_span_s: float = 60.0
) -> Iterable[list[Sourced]]:
    """Cut a time-ordered stream into batches of at most ``max_events`` events spanning less
    than ``max_span_s`` of event time (a ``Source`` from a reader)."""
    batch: list[Sourced] = []
    for item in items:
        if batch and (
            len(batch) >= max_events or item.event.ts - batch[0].event.ts >= max_span_s
        ):
            yield batch
            batch = []
        batch.append(item)
    if batch:
        yield batch
