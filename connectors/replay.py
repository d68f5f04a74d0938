"""The embedded runtime: replay a scenario folder through the whole pipeline, no broker.

Inputs are read from the replay folder layout (docs/events.md), merged by event time and run
by ``connectors.runner.Runner`` in batches through ``engine.pipeline.Pipeline`` (its intake
stage: per-file watermarks, too-late lines become dead letters ``late: ...``, the live series
cap; then detection and correlation at the intake's event time); processing time is the newest
event time seen, and at the end of the input event time moves to it.
Everything is counted in ``VigilMetrics`` (``ReplayOptions.metrics``). Outputs go to
``OUT_DIR`` as ``anomalies.jsonl``, ``incidents.jsonl``, ``actions.jsonl``,
``retrain.jsonl`` and ``dead_letters.jsonl``; decided actions are handed to the deliverer.
Every output carries a stable id, so running the same folder twice gives the same files.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.files import JsonlWriter, ReadProgress, read_sourced
from connectors.metrics import VigilMetrics
from connectors.progress import ProgressBar
from connectors.runner import EventClock, Observe, Runner, batches
from engine.detect.profile import ReferenceProfile
from engine.events import (
    Action,
    Anomaly,
    Incident,
    IncidentStatus,
    Rejected,
    RetrainRequest,
)
from engine.ingest.watermark import Sourced
from engine.pipeline import Pipeline
from engine.rules import RuleSet

Deliver = Callable[[list[Action]], list[Action]]
"""Takes decided actions, returns final action records (delivered, failed, suppressed).

A deliverer may also have ``close(drain_s=...) -> list[Action]``, called once at the end; what
it returns is written too (an outbox delivers what is still pending then).
"""
OUTPUT_FILES = ("anomalies", "incidents", "actions", "retrain", "dead_letters")


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
class ReplaySink:
    """The ``connectors.runner.Sink`` of a replay: one JSONL file per output kind; decided
    actions go through the deliverer and its final records are written."""

    writers: dict[str, JsonlWriter]
    result: ReplayResult
    deliver: Deliver
    metrics: VigilMetrics
    written: Counter[str] = field(default_factory=Counter)

    def write(self, outputs: Sequence[Any]) -> None:
        if not outputs:
            return
        _emit(outputs, self)
        self.count_outputs()

    def flush(self) -> None:
        for writer in self.writers.values():
            writer.flush()

    def count_outputs(self) -> None:
        metrics = self.metrics
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
    writers = {name: JsonlWriter(out_dir / f"{name}.jsonl") for name in OUTPUT_FILES}
    sink = ReplaySink(writers, ReplayResult(), deliver, options.metrics)
    runner = Runner(
        Pipeline.from_rules(rules, options.references),
        sink,
        EventClock(),
        options.metrics,
        options.observe,
    )
    if options.on_ready is not None:
        options.on_ready()
    try:
        runner.run(_source(folder, sink, runner, options, progress))
        close = getattr(deliver, "close", None)
        for action in close(drain_s=options.drain_s) if close is not None else []:
            _write_action(action, writers, sink.result)
        sink.count_outputs()
    finally:
        for writer in writers.values():
            writer.close()
        if progress is not None:
            progress.done()
    sink.result.events_in = runner.events_in
    sink.result.elapsed_s = time.monotonic() - started
    return sink.result


def _source(
    folder: Path,
    sink: ReplaySink,
    runner: Runner,
    options: ReplayOptions,
    progress: ProgressBar | None,
) -> Iterator[list[Sourced]]:
    """The folder's events in batches; after each batch has run, the lines that could not be
    read so far become dead letters and the progress bar moves."""
    read = ReadProgress()
    items = read_sourced(folder, read)
    for batch in batches(items, max_events=options.batch_events, max_span_s=options.batch_s):
        yield batch
        _flush_rejected(read, sink)
        if progress is not None:
            events = f"{runner.events_in:,} events"
            progress.update(read.read_bytes, read.total_bytes, events)
    _flush_rejected(read, sink)


def _emit(outputs: Sequence[Any], run: ReplaySink) -> None:
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
            _write_rejected(out, writers, result, run.metrics)
    for action in run.deliver(decided) if decided else []:
        _write_action(action, writers, result)


def _write_action(action: Action, writers: dict[str, JsonlWriter], result: ReplayResult) -> None:
    writers["actions"].write(action.to_wire())
    result.counts["actions"] += 1
    result.actions.append(action)


def _flush_rejected(read: ReadProgress, sink: ReplaySink) -> None:
    for rejected in read.rejected:
        _write_rejected(rejected, sink.writers, sink.result, sink.metrics)
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
