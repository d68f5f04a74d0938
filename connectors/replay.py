"""The embedded runtime: replay a scenario folder through the whole pipeline, no broker.

Inputs are read from the replay folder layout (docs/events.md), merged by event time, passed
through ``connectors.intake.Intake`` (per-file watermarks: too-late lines become dead letters
``late: ...``; the live series cap) and fed to ``engine.pipeline.Pipeline`` in batches with
``now`` = the combined watermark; at the end of the input, time moves to the newest event.
Everything is counted in ``VigilMetrics`` (``ReplayOptions.metrics``). Outputs go to
``OUT_DIR`` as ``anomalies.jsonl``, ``incidents.jsonl``, ``actions.jsonl``,
``retrain.jsonl`` and ``dead_letters.jsonl``; decided actions are handed to the deliverer.
Every output carries a stable id, so running the same folder twice gives the same files.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from connectors.files import JsonlWriter, ReadProgress, read_sourced
from connectors.intake import Intake
from connectors.metrics import VigilMetrics, alert_evictions
from connectors.progress import ProgressBar
from engine.detect.profile import ReferenceProfile
from engine.events import (
    Action,
    Anomaly,
    Incident,
    IncidentStatus,
    InputEvent,
    Rejected,
    RetrainRequest,
)
from engine.ingest.watermark import Sourced
from engine.pipeline import Pipeline
from engine.rules import RuleSet
from engine.state import PipelineState

Deliver = Callable[[list[Action]], list[Action]]
"""Takes decided actions, returns final action records (delivered, failed, suppressed).

A deliverer may also have ``close(drain_s=...) -> list[Action]``, called once at the end; what
it returns is written too (an outbox delivers what is still pending then).
"""
Observe = Callable[[list[InputEvent], list[Any]], None]
"""``(input batch, pipeline outputs)`` after each batch, before delivery (the web console)."""
OUTPUT_FILES = ("anomalies", "incidents", "actions", "retrain", "dead_letters")
STATE_SIZE_EVERY_S = 10.0
"""Wall time between two measurements of the state size (it serializes the whole state)."""


@dataclass(slots=True)
class ReplayResult:
    """What a replay produced, for the summary and for tests."""

    events_in: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    dead_letter_reasons: Counter[str] = field(default_factory=Counter)
    incidents: dict[str, Incident] = field(default_factory=dict)
    actions: list[Action] = field(default_factory=list)
    elapsed_s: float = 0.0


@dataclass(slots=True)
class ReplayOptions:
    batch_events: int = 5000
    batch_s: float = 60.0
    """A batch closes when its event time span exceeds this many seconds."""
    drain_s: float = 30.0
    """At the end, how long (wall clock) the deliverer may keep delivering what is pending."""
    observe: Observe | None = None
    references: Mapping[str, ReferenceProfile] = field(default_factory=dict)
    """Stored model reference profiles (``connectors.reference.load_references``)."""
    metrics: VigilMetrics = field(default_factory=VigilMetrics)
    on_ready: Callable[[], None] | None = None
    """Called once the pipeline state is set up, before the first batch (``/readyz``)."""


@dataclass(slots=True)
class _Run:
    """One replay's pipeline, state, intake and writers."""

    pipeline: Pipeline
    state: PipelineState
    intake: Intake
    writers: dict[str, JsonlWriter]
    result: ReplayResult
    deliver: Deliver
    options: ReplayOptions
    clock: float = float("-inf")
    written: Counter[str] = field(default_factory=Counter)
    sized_at: float = field(default_factory=time.monotonic)

    def step(self, batch: list[Sourced]) -> None:
        self.result.events_in += len(batch)
        self.clock = max(self.clock, *(item.event.ts for item in batch))
        events, rejected = self.intake.admit(batch, self.state, clock=self.clock)
        for item in rejected:
            _write_rejected(item, self.writers, self.result, self.options.metrics)
        now = self.intake.now(self.clock)
        if now is not None:
            self.run_pipeline(events, now)

    def consume(self, folder: Path, progress: ProgressBar | None) -> None:
        """Run every batch read from ``folder``; at its end, event time moves to its newest."""
        read = ReadProgress()
        for batch in _batches(read_sourced(folder, read), self.options):
            self.step(batch)
            _flush_rejected(read, self)
            if progress is not None:
                events = f"{self.result.events_in:,} events"
                progress.update(read.read_bytes, read.total_bytes, events)
            if time.monotonic() - self.sized_at >= STATE_SIZE_EVERY_S:
                self.observe_state()
        _flush_rejected(read, self)
        if self.result.events_in:  # the input is over: event time moves to its newest event
            self.run_pipeline([], self.clock)
            self.options.metrics.observe_event_time(self.clock, self.clock)
        self.observe_state()

    def observe_state(self) -> None:
        """``vigil_state_size_bytes`` per stage: the state serialized as a checkpoint would be."""
        for stage in ("detect", "incident"):
            size = len(orjson.dumps(getattr(self.state, stage).to_dict()))
            self.options.metrics.state_size.labels(stage=stage).set(size)
        self.sized_at = time.monotonic()

    def run_pipeline(self, events: list[InputEvent], now: float) -> None:
        metrics = self.options.metrics
        counts = dict(_reorder_counts(self.state))
        evicted = alert_evictions(self.state.incident)
        with metrics.stage_latency.labels(stage="pipeline").time():
            self.state, outputs = self.pipeline.process(self.state, events, now=now)
        metrics.observe_reorder(counts, _reorder_counts(self.state))
        models = self.state.detect.models
        if models.models:
            metrics.models.observe(models)
        metrics.observe_alert_memory(evicted, alert_evictions(self.state.incident))
        if self.options.observe is not None:
            self.options.observe(events, outputs)
        with metrics.stage_latency.labels(stage="deliver").time():
            _emit(outputs, self)
        self.count_outputs()

    def count_outputs(self) -> None:
        metrics = self.options.metrics
        incidents = self.result.incidents.values()
        metrics.incidents_open.set(sum(i.status is not IncidentStatus.RESOLVED for i in incidents))
        for name, writer in self.writers.items():
            metrics.records_out.labels(topic=name).inc(writer.count - self.written[name])
            self.written[name] = writer.count


def replay(
    folder: Path,
    out_dir: Path,
    rules: RuleSet,
    deliver: Deliver,
    options: ReplayOptions | None = None,
    progress: ProgressBar | None = None,
) -> ReplayResult:
    """Run ``folder`` through the pipeline built from ``rules``; write outputs to ``out_dir``."""
    options = options or ReplayOptions()
    started = time.monotonic()
    pipeline = Pipeline.from_rules(rules, options.references)
    writers = {name: JsonlWriter(out_dir / f"{name}.jsonl") for name in OUTPUT_FILES}
    run = _Run(
        pipeline,
        pipeline.initial_state(),
        Intake.from_rules(rules.runtime, options.metrics),
        writers,
        ReplayResult(),
        deliver,
        options,
    )
    if options.on_ready is not None:
        options.on_ready()
    try:
        run.consume(folder, progress)
        close = getattr(deliver, "close", None)
        for action in close(drain_s=options.drain_s) if close is not None else []:
            _write_action(action, writers, run.result)
        run.count_outputs()
    finally:
        for writer in writers.values():
            writer.close()
        if progress is not None:
            progress.done()
    run.result.elapsed_s = time.monotonic() - started
    return run.result


def _batches(items: Iterator[Sourced], options: ReplayOptions) -> Iterator[list[Sourced]]:
    batch: list[Sourced] = []
    for item in items:
        if batch and (
            len(batch) >= options.batch_events
            or item.event.ts - batch[0].event.ts >= options.batch_s
        ):
            yield batch
            batch = []
        batch.append(item)
    if batch:
        yield batch


def _emit(outputs: list[Any], run: _Run) -> None:
    writers, result = run.writers, run.result
    decided: list[Action] = []
    for out in outputs:
        if isinstance(out, Anomaly):
            writers["anomalies"].write(out.to_wire())
            result.counts["anomalies"] += 1
        elif isinstance(out, Incident):
            writers["incidents"].write(out.to_wire())
            result.counts["incidents"] += 1
            result.incidents[out.id] = out
        elif isinstance(out, RetrainRequest):
            writers["retrain"].write(out.to_wire())
            result.counts["retrain"] += 1
        elif isinstance(out, Action):
            decided.append(out)
        elif isinstance(out, Rejected):
            _write_rejected(out, writers, result, run.options.metrics)
    for action in run.deliver(decided) if decided else []:
        _write_action(action, writers, result)


def _write_action(action: Action, writers: dict[str, JsonlWriter], result: ReplayResult) -> None:
    writers["actions"].write(action.to_wire())
    result.counts["actions"] += 1
    result.actions.append(action)


def _flush_rejected(read: ReadProgress, run: _Run) -> None:
    for rejected in read.rejected:
        _write_rejected(rejected, run.writers, run.result, run.options.metrics)
    read.rejected.clear()


def _write_rejected(
    rejected: Rejected,
    writers: dict[str, JsonlWriter],
    result: ReplayResult,
    metrics: VigilMetrics,
) -> None:
    metrics.count_dead_letter(rejected.error)
    writers["dead_letters"].write(rejected.to_wire())
    result.counts["dead_letters"] += 1
    result.dead_letter_reasons[rejected.error.split(":", 1)[0]] += 1


def _reorder_counts(state: PipelineState) -> dict[str, int]:
    """The incident stage's reorder counts (late events there are exported per batch)."""
    return state.incident.reorder.counts
