"""The embedded runtime: replay a scenario folder through the whole pipeline, no broker.

Inputs are read from the replay folder layout (docs/events.md), merged by event time and fed
to ``engine.pipeline.Pipeline`` in batches; the watermark ``now`` is the newest event time
seen. Outputs go to ``OUT_DIR`` as ``anomalies.jsonl``, ``incidents.jsonl``, ``actions.jsonl``,
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

from connectors.files import JsonlWriter, ReadProgress, read_events
from connectors.progress import ProgressBar
from engine.detect.profile import ReferenceProfile
from engine.events import Action, Anomaly, Incident, InputEvent, Rejected, RetrainRequest
from engine.pipeline import Pipeline
from engine.rules import RuleSet

Deliver = Callable[[list[Action]], list[Action]]
"""Takes decided actions, returns final action records (delivered, failed, suppressed).

A deliverer may also have ``close(drain_s=...) -> list[Action]``, called once at the end; what
it returns is written too (an outbox delivers what is still pending then).
"""
Observe = Callable[[list[InputEvent], list[Any]], None]
"""``(input batch, pipeline outputs)`` after each batch, before delivery (the web console)."""
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
    state = pipeline.initial_state()
    result = ReplayResult()
    read = ReadProgress()
    writers = {name: JsonlWriter(out_dir / f"{name}.jsonl") for name in OUTPUT_FILES}
    try:
        for batch in _batches(read_events(folder, read), options):
            result.events_in += len(batch)
            state, outputs = pipeline.process(state, batch, now=batch[-1].ts)
            if options.observe is not None:
                options.observe(batch, outputs)
            _emit(outputs, writers, result, deliver)
            _flush_rejected(read, writers, result)
            if progress is not None:
                progress.update(read.read_bytes, read.total_bytes, f"{result.events_in:,} events")
        _flush_rejected(read, writers, result)
        close = getattr(deliver, "close", None)
        for action in close(drain_s=options.drain_s) if close is not None else []:
            _write_action(action, writers, result)
    finally:
        for writer in writers.values():
            writer.close()
        if progress is not None:
            progress.done()
    result.elapsed_s = time.monotonic() - started
    return result


def _batches(events: Iterator[InputEvent], options: ReplayOptions) -> Iterator[list[InputEvent]]:
    batch: list[InputEvent] = []
    for event in events:
        if batch and (
            len(batch) >= options.batch_events or event.ts - batch[0].ts >= options.batch_s
        ):
            yield batch
            batch = []
        batch.append(event)
    if batch:
        yield batch


def _emit(
    outputs: list[Any], writers: dict[str, JsonlWriter], result: ReplayResult, deliver: Deliver
) -> None:
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
    for action in deliver(decided) if decided else []:
        _write_action(action, writers, result)


def _write_action(action: Action, writers: dict[str, JsonlWriter], result: ReplayResult) -> None:
    writers["actions"].write(action.to_wire())
    result.counts["actions"] += 1
    result.actions.append(action)


def _flush_rejected(
    read: ReadProgress, writers: dict[str, JsonlWriter], result: ReplayResult
) -> None:
    for rejected in read.rejected:
        _write_rejected(rejected, writers, result)
    read.rejected.clear()


def _write_rejected(
    rejected: Rejected, writers: dict[str, JsonlWriter], result: ReplayResult
) -> None:
    writers["dead_letters"].write(rejected.to_wire())
    result.counts["dead_letters"] += 1
    result.dead_letter_reasons[rejected.error.split(":", 1)[0]] += 1
