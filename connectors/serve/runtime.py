"""The live embedded runtime behind ``vigil serve``: journal -> intake -> pipeline -> outputs.

``LiveRuntime`` reads the input journal (``connectors.serve.journal``) from its checkpointed
offset, one record per step, and drives replay's pipeline edges (``connectors.replay._Run``:
intake, pipeline, metrics, console hook, outputs, the outbox deliverer) with the record's wall
clock as processing time. Event time is the intake's combined watermark, moved on by the wall
clock once every source is idle (``connectors.serve.clock``); it never goes backwards.

Because every step is a function of the journal (ticks included), a restart from a checkpoint
repeats exactly what the crashed process did after it. Checkpoint order (``checkpoint``):

1. flush and fsync the output files (decided actions are already in the SQLite outbox: the
   deliverer stores them before a step returns);
2. write the snapshot (pipeline and intake state, event time, journal offset, output sizes)
   atomically to ``STATE_DIR/checkpoint/serve.json``;
3. delete the journal segments the snapshot covers.

A crash at any point loses nothing: on start the output files are cut back to the sizes of
the snapshot and the journal is replayed from its offset; the outbox ignores action ids it
already holds, so no receiver is paged twice.
"""

from __future__ import annotations

import asyncio
import enum
import fcntl
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

import orjson

from connectors.checkpoint import encode_snapshot
from connectors.checkpoint.file import FileCheckpointStore
from connectors.errors import ConnectorError
from connectors.intake import Intake
from connectors.kafka.view import incident_from_wire
from connectors.outbox import SqliteOutbox
from connectors.replay import (
    OUTPUT_FILES,
    Deliver,
    ReplayOptions,
    ReplayResult,
    _Run,
    _write_action,
    _write_rejected,
)
from connectors.serve.clock import idle_event_time
from connectors.serve.codec import decode_event
from connectors.serve.journal import InputJournal, JournalIngest, Record
from connectors.serve.outputs import OutputFile
from engine.detect.cardinality import GuardState
from engine.events import (
    Alert,
    Change,
    GroundTruth,
    Incident,
    IncidentStatus,
    InputEvent,
    InputKind,
    LogRecord,
    MetricPoint,
    Prediction,
    Rejected,
    TopologyUpdate,
)
from engine.ingest.watermark import Sourced, WatermarkState
from engine.pipeline import Pipeline
from engine.rules import RuleSet

log = logging.getLogger("vigil.serve")

SNAPSHOT_KEY: Final = "serve"
SNAPSHOT_VERSION: Final = 1
APPENDED_ONLY: Final = ("actions",)
"""Outputs written from delivery outcomes, not replayed: never cut back."""
SOURCES: Final[dict[type, InputKind]] = {
    MetricPoint: InputKind.METRICS,
    LogRecord: InputKind.LOGS,
    Prediction: InputKind.PREDICTIONS,
    GroundTruth: InputKind.LABELS,
    Alert: InputKind.ALERTS,
    Change: InputKind.CHANGES,
    TopologyUpdate: InputKind.TOPOLOGY,
}
"""Each input kind is one event-time source (named after the kind), however it arrived."""


class Clock(enum.Enum):
    """Processing time of ``vigil serve``: what tells an idle source (``--clock``)."""

    WALL = "wall"
    """The wall clock when each batch was accepted (live input; ticks while nothing comes)."""
    EVENT = "event"
    """The newest event time accepted, as a replay does (a backfill of old data over HTTP,
    and tests: the outputs then depend on the input alone, not on when it arrived)."""


@dataclass(slots=True)
class ServeOptions:
    checkpoint_interval_s: float = 10.0
    """Wall time between two checkpoints (and one at shutdown)."""
    tick_s: float = 1.0
    """Wall time without input after which a tick record lets the runtime see time pass."""
    max_backlog_bytes: int = 256 * 1024 * 1024
    """Journal bytes not yet processed past which ingest answers 503 (senders retry)."""
    replay: ReplayOptions = field(default_factory=ReplayOptions)
    """Metrics, console hook and model references, as for a replay."""
    clock: Clock = Clock.WALL
    wall_clock: Callable[[], float] = time.time
    """Read when a batch is journaled (tests pass their own)."""


class LiveRuntime:
    """Journal-driven pipeline with local checkpoints (see the module docstring)."""

    def __init__(
        self, rules: RuleSet, state_dir: Path, deliver: Deliver, options: ServeOptions
    ) -> None:
        self.options = options
        self.lock = _lock(state_dir)
        self.journal = InputJournal(state_dir / "journal", wall_clock=options.wall_clock)
        self.ingest = JournalIngest(self.journal, options.max_backlog_bytes)
        self.store = FileCheckpointStore(state_dir / "checkpoint")
        self.idle_source_s = rules.runtime.idle_source
        pipeline = Pipeline.from_rules(rules, options.replay.references)
        snapshot = asyncio.run(self.store.load([SNAPSHOT_KEY])).get(SNAPSHOT_KEY)
        sizes = snapshot["outputs"] if snapshot else {}
        writers = {
            name: OutputFile(
                state_dir / f"{name}.jsonl",
                None if name in APPENDED_ONLY else int(sizes.get(name, 0)),
            )
            for name in OUTPUT_FILES
        }
        intake = Intake.from_rules(rules.runtime, options.replay.metrics)
        state = pipeline.initial_state()
        self.offset, self.now = 0, None
        if snapshot is not None:
            state = pipeline.restore_state(snapshot["pipeline"])
            intake.marks = WatermarkState.from_dict(snapshot["marks"])
            intake.series = GuardState.from_dict(snapshot["series"])
            self.offset, self.now = int(snapshot["offset"]), snapshot["now"]
            self.journal.skip_to(self.offset)
        self.run = _Run(
            pipeline, state, intake, dict(writers), ReplayResult(), deliver, options.replay
        )
        if snapshot is not None and snapshot.get("clock") is not None:  # null: -inf
            self.run.clock = float(snapshot["clock"])
        self.writers = writers
        _recover_outcomes(state_dir / "outbox.sqlite", writers["actions"])
        self.ingest.consumed = self.offset
        self.checkpointed_at = time.monotonic()

    def restored_incidents(self) -> list[Incident]:
        """The latest record of each incident in ``incidents.jsonl`` (for the console)."""
        latest: dict[str, Incident] = {}
        with self.writers["incidents"].path.open("rb") as handle:
            for line in handle:
                incident = incident_from_wire(orjson.loads(line))
                if incident is not None:
                    latest[incident.id] = incident
        return list(latest.values())

    def serve(self, stop: threading.Event) -> None:
        """Process the journal until ``stop`` is set; then refuse new input, process what was
        accepted, and checkpoint."""
        while not stop.is_set():
            if not self.catch_up(max_records=1):
                self.collect()
                came = self.journal.wait(self.offset, self.options.tick_s)
                if not came and self.options.clock is Clock.WALL:
                    self.journal.append([])  # nothing came: a tick, so time passes
            if time.monotonic() - self.checkpointed_at >= self.options.checkpoint_interval_s:
                self.checkpoint()
        self.ingest.closed = True  # from now on 503: the senders retry (after the restart)
        self.catch_up()
        self.checkpoint()

    def catch_up(self, max_records: int | None = None) -> int:
        """Process journal records (all there are, or a read's worth past ``max_records``);
        how many."""
        done = 0
        while max_records is None or done < max_records:
            records = self.journal.read(self.offset)
            if not records:
                break
            for record in records:
                self.step(record)
            done += len(records)
        return done

    def step(self, record: Record) -> None:
        """One journal record through intake and pipeline, at its wall clock."""
        run = self.run
        batch: list[Sourced] = []
        for data in record.events:
            event = decode_event(data)
            if isinstance(event, Rejected):
                _write_rejected(event, run.writers, run.result, run.options.metrics)
            else:
                batch.append(_sourced(event, record.end))
        run.result.events_in += len(batch)
        if self.options.clock is Clock.EVENT:
            run.clock = max([run.clock, *(item.event.ts for item in batch)])
        else:
            run.clock = record.at
        events, late = run.intake.admit(batch, run.state, clock=run.clock)
        for item in late:
            _write_rejected(item, run.writers, run.result, run.options.metrics)
        if run.clock > float("-inf"):
            self.advance(events, run.clock)
        self.offset = self.ingest.consumed = record.end
        for writer in self.writers.values():
            writer.flush()  # readable at once (durable only as of the next checkpoint)

    def advance(self, events: list[InputEvent], clock: float) -> None:
        """Run the pipeline at the event time ``clock`` allows (never earlier than before)."""
        intake = self.run.intake
        candidates = [
            t
            for t in (
                self.now,
                intake.now(clock),
                idle_event_time(intake.marks, self.idle_source_s, clock),
            )
            if t is not None
        ]
        if not candidates:
            return
        self.now = max(candidates)
        self.run.run_pipeline(events, self.now)
        self.run.options.metrics.observe_event_time(clock, self.now)
        self._forget_done()

    def collect(self) -> None:
        """Write the delivery outcomes finished since the last step."""
        for action in self.run.deliver([]):
            _write_action(action, self.run.writers, self.run.result)
        self.writers["actions"].flush()
        self.run.count_outputs()
        self._forget_done()

    def _forget_done(self) -> None:
        """Keep the result small in a long run: only unresolved incidents (the open gauge)."""
        result = self.run.result
        result.actions.clear()
        done = [k for k, i in result.incidents.items() if i.status is IncidentStatus.RESOLVED]
        for key in done:
            del result.incidents[key]

    def checkpoint(self) -> None:
        """Outputs, then the snapshot, then the journal segments it covers (module docstring)."""
        sizes = {name: writer.sync() for name, writer in self.writers.items()}
        snapshot: dict[str, Any] = {
            "version": SNAPSHOT_VERSION,
            "offset": self.offset,
            "now": self.now,
            "clock": self.run.clock,
            "pipeline": self.run.state.to_dict(),
            "marks": self.run.intake.marks.to_dict(),
            "series": self.run.intake.series.to_dict(),
            "outputs": sizes,
        }
        asyncio.run(self.store.save({SNAPSHOT_KEY: encode_snapshot(snapshot)}))
        self.journal.release(self.offset)
        self.run.observe_state()
        self.checkpointed_at = time.monotonic()

    def close(self, drain_s: float) -> None:
        """Deliver what is pending for up to ``drain_s``; close files and the journal."""
        close = getattr(self.run.deliver, "close", None)
        for action in close(drain_s=drain_s) if close is not None else []:
            _write_action(action, self.run.writers, self.run.result)
        for writer in self.writers.values():
            writer.sync()
            writer.close()
        self.journal.close()
        self.lock.close()


def _lock(state_dir: Path) -> IO[bytes]:
    """Hold ``STATE_DIR/lock`` while running (released by the OS however the process ends):
    two runtimes on one folder would interleave their journals and checkpoints."""
    state_dir.mkdir(parents=True, exist_ok=True)
    handle = (state_dir / "lock").open("a+b")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise ConnectorError(f"{state_dir}: in use by another vigil serve") from None
    return handle


def _sourced(event: InputEvent, end: int) -> Sourced:
    return Sourced(SOURCES[type(event)].value, event, offset=end)


def _recover_outcomes(outbox: Path, actions: OutputFile) -> None:
    """Append the outcomes the outbox recorded but ``actions.jsonl`` missed (the process died
    between the two writes)."""
    if not outbox.exists():
        return
    with actions.path.open("rb") as handle:
        written = {(d["id"], d["status"]) for d in map(orjson.loads, handle)}
    store = SqliteOutbox(outbox)
    try:
        for action in store.finished():
            if (action.id, action.status.value) not in written:
                actions.write(action.to_wire())
    finally:
        store.close()
