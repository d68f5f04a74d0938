"""The live embedded runtime behind ``vigil serve``: journal -> intake -> pipeline -> outputs.

``LiveRuntime`` reads the input journal (``connectors.serve.journal``: the runner's *source*)
from its checkpointed offset, one record per step, and hands each to the shared runner
(``connectors.runner.Runner``: intake, pipeline, metrics, console hook) with the record's wall
clock as processing time (the *clock* port). Outputs go to replay's sink
(``connectors.replay.ReplaySink``: output files and the outbox deliverer); the *checkpoint
store* is a ``FileCheckpointStore``. Event time is the intake's, moved on by the wall clock once
every source is idle (``connectors.serve.clock``); it never goes backwards.

Because every step is a function of the journal (ticks included), a restart from a checkpoint
repeats exactly what the crashed process did after it. Checkpoint order (``checkpoint``):

1. flush and fsync the output files (decided actions are already in the SQLite outbox: the
   deliverer stores them before a step returns);
2. write the snapshot (pipeline and intake state, event time, journal offset, output sizes)
   atomically to ``STATE_DIR/checkpoint/serve.json``;
3. delete the journal segments the snapshot covers.

A crash at any point loses nothing: on start the output files are cut back to the sizes of
the snapshot and the journal is replayed from its offset; the outbox ignores action ids it
already holds, so no action is decided twice (one a receiver took just before the crash is
sent again with its id, the idempotency key; the file receiver skips it).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from connectors.checkpoint import encode_snapshot
from connectors.checkpoint.file import FileCheckpointStore
from connectors.replay import (
    OUTPUT_FILES,
    Deliver,
    ReplayOptions,
    ReplayResult,
    ReplaySink,
    _write_action,
)
from connectors.runner import EventClock
from connectors.serve.clock import JournalClock, LiveRunner, ServeClock, idle_event_time
from connectors.serve.folder import (
    OutputFile,
    latest_incidents,
    lock,
    recover_outcomes,
    upgrade_v1_to_v2,
)
from connectors.serve.journal import InputJournal, JournalIngest, Record, events_of
from engine.events import (
    Alert,
    Change,
    EventTime,
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
from engine.ingest.watermark import Sourced
from engine.pipeline import Pipeline
from engine.rules import RuleSet

log = logging.getLogger("vigil.serve")

SNAPSHOT_KEY: Final = "serve"
SNAPSHOT_VERSION: Final = 2
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
    clock: ServeClock = ServeClock.WALL
    wall_clock: Callable[[], float] = time.time
    """Read when a batch is journaled (tests pass their own)."""


class LiveRuntime:
    """Journal-driven runner with local checkpoints (see the module docstring)."""

    def __init__(
        self,
        rules: RuleSet,
        state_dir: Path,
        deliver: Deliver,
        options: ServeOptions,
        held: IO[bytes] | None = None,
    ) -> None:
        """``held``: the folder's lock (``folder.lock``) if the caller took it already (before
        opening the outbox in the folder, as ``vigil serve`` does)."""
        self.options = options
        self.lock = held or lock(state_dir)
        self.journal = InputJournal(state_dir / "journal", wall_clock=options.wall_clock)
        self.ingest = JournalIngest(self.journal, options.max_backlog_bytes)
        self.store = FileCheckpointStore(state_dir / "checkpoint")
        self.idle_source_s = rules.runtime.idle_source
        snapshot = asyncio.run(self.store.load([SNAPSHOT_KEY])).get(SNAPSHOT_KEY)
        if snapshot is not None and snapshot.get("version") == 1:
            snapshot = upgrade_v1_to_v2(snapshot)
        sizes = snapshot["outputs"] if snapshot else {}
        self.writers = {
            name: OutputFile(
                state_dir / f"{name}.jsonl",
                None if name in APPENDED_ONLY else int(sizes.get(name, 0)),
            )
            for name in OUTPUT_FILES
        }
        recover_outcomes(state_dir / "outbox.sqlite", self.writers["actions"])
        replay = options.replay
        self.sink = ReplaySink(dict(self.writers), ReplayResult(), deliver, replay.metrics)
        clock = EventClock() if options.clock is ServeClock.EVENT else JournalClock()
        pipeline = Pipeline.from_rules(rules, replay.references)
        self.runner = LiveRunner(pipeline, self.sink, clock, replay.metrics, replay.observe)
        self.offset = 0
        if snapshot is not None:
            self._restore(snapshot)
        self.ingest.consumed = self.offset
        if options.clock is ServeClock.EVENT:
            self._note_accepted()
        self.checkpointed, self.checkpointed_at = self._progress(), time.monotonic()

    def _restore(self, snapshot: dict[str, Any]) -> None:
        runner = self.runner
        runner.state = runner.pipeline.restore_state(snapshot["state"])
        runner.floor, runner.events_in = snapshot["floor"], int(snapshot["events_in"])
        clock = snapshot["clock"]
        runner.last_now = clock
        if clock is not None:
            if isinstance(runner.clock, EventClock):
                runner.clock.last = clock
            elif isinstance(runner.clock, JournalClock):
                runner.clock.at = clock
        self.offset = int(snapshot["offset"])
        self.journal.skip_to(self.offset)

    def _note_accepted(self) -> None:
        """The newest event time accepted before this start (what ``--clock event`` receives
        requests at): the checkpoint's processing time, then the journal it does not cover."""
        clock = self.runner.clock
        if isinstance(clock, EventClock) and clock.last != float("-inf"):
            self.ingest.newest = clock.last
        offset = self.offset
        while records := self.journal.read(offset):
            for record in records:
                self.ingest.note_accepted(events_of(record))
            offset = records[-1].end

    @property
    def now(self) -> EventTime | None:
        """The pipeline's event time (``None`` before any event)."""
        return self.runner.floor

    def restored_incidents(self) -> list[Incident]:
        """The latest record of each incident in ``incidents.jsonl`` (for the console)."""
        return latest_incidents(self.writers["incidents"].path)

    def serve(self, stop: threading.Event) -> None:
        """Process the journal until ``stop`` is set; then refuse new input, process what was
        accepted, and checkpoint."""
        while not stop.is_set():
            if not self.catch_up(max_records=1):
                self.collect()
                came = self.journal.wait(self.offset, self.options.tick_s)
                if not came and self.options.clock is ServeClock.WALL:
                    self.journal.append([])  # nothing came: a tick, so time passes
            due = time.monotonic() - self.checkpointed_at >= self.options.checkpoint_interval_s
            if due and self._progress() != self.checkpointed:
                self.checkpoint()  # (ticks that moved nothing are cheaper to run again)
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
        """One journal record through the runner, at its wall clock (``--clock wall``)."""
        decoded = events_of(record)
        self.sink.write([e for e in decoded if isinstance(e, Rejected)])
        batch = [_sourced(e, record.end) for e in decoded if not isinstance(e, Rejected)]
        clock = self.runner.clock
        if isinstance(clock, JournalClock):
            clock.at = max(clock.at, record.at)
        self.runner.step(batch)
        self._let_time_pass(clock.now([]))
        self.offset = self.ingest.consumed = record.end
        for writer in self.writers.values():
            writer.flush()  # readable at once (durable only as of the next checkpoint)
        self._forget_done()

    def _let_time_pass(self, clock: float) -> None:
        """Event time at processing time ``clock`` without new events: the intake's (a source
        gone idle stops holding it back) or the idle wall clock's, if later."""
        if clock == float("-inf"):
            return
        runner = self.runner
        intake = runner.state.intake
        times = (
            runner.pipeline.intake.event_time(intake, now=clock),
            idle_event_time(intake.marks, self.idle_source_s, clock),
        )
        later = max((t for t in times if t is not None), default=None)
        if later is not None and (runner.floor is None or later > runner.floor):
            runner.advance([], later)
            runner.metrics.observe_event_time(clock, later)

    def collect(self) -> None:
        """Write the delivery outcomes finished since the last step."""
        for action in self.sink.deliver([]):
            _write_action(action, self.sink.writers, self.sink.result)
        self.writers["actions"].flush()
        self.sink.count_outputs()
        self._forget_done()

    def _forget_done(self) -> None:
        """Keep the result small in a long run: only unresolved incidents (the open gauge)."""
        result = self.sink.result
        result.actions.clear()
        done = [k for k, i in result.incidents.items() if i.status is IncidentStatus.RESOLVED]
        for key in done:
            del result.incidents[key]

    def checkpoint(self) -> None:
        """Outputs, then the snapshot, then the journal segments it covers (module docstring)."""
        sizes = {name: writer.sync() for name, writer in self.writers.items()}
        runner = self.runner
        snapshot: dict[str, Any] = {
            "version": SNAPSHOT_VERSION,
            "state": runner.state.to_dict(),
            "clock": runner.clock.now([]) if self.offset else None,
            "floor": runner.floor,
            "events_in": runner.events_in,
            "offset": self.offset,
            "outputs": sizes,
        }
        asyncio.run(self.store.save({SNAPSHOT_KEY: encode_snapshot(snapshot)}))
        self.journal.release(self.offset)
        self.checkpointed, self.checkpointed_at = self._progress(), time.monotonic()

    def _progress(self) -> tuple[int, EventTime | None, int]:
        """What a checkpoint would save that matters: events run, event time, and the journal
        in MiB (so ticks alone still get checkpointed and released now and then)."""
        return self.runner.events_in, self.runner.floor, self.offset >> 20

    def close(self, drain_s: float) -> None:
        """Deliver what is pending for up to ``drain_s``; close files and the journal."""
        close = getattr(self.sink.deliver, "close", None)
        for action in close(drain_s=drain_s) if close is not None else []:
            _write_action(action, self.sink.writers, self.sink.result)
        for writer in self.writers.values():
            writer.sync()
            writer.close()
        self.journal.close()
        self.lock.close()


def _sourced(event: InputEvent, end: int) -> Sourced:
    return Sourced(SOURCES[type(event)].value, event, offset=end)
