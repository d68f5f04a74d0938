"""The input journal: every batch ``vigil serve`` accepted, on disk before it is answered.

One JSON Lines record per append, in segment files ``journal-<offset>.jsonl`` (the offset of
the segment's first byte in the whole journal) under the state directory:

* input: ``{"at": wall clock, "events": [encoded event, ...]}`` (``connectors.serve.codec``);
* tick: ``{"at": wall clock}``, written when no input came for a while, so the time the
  runtime saw pass (idle sources, timers) is replayed exactly after a restart.

``append`` writes a record and ``fsync``\\ s it before returning; the HTTP API answers 2xx only
after that, so an accepted batch survives ``kill -9`` (and a power cut, to the disk's word).
``at`` never goes backwards. A record cut short by a crash (no newline at the end of the last
segment) was never acknowledged: ``open`` truncates it. The runtime reads records from its
checkpointed offset (``read``) and, once a checkpoint covers them, ``release`` deletes the
segments it no longer needs. Thread-safe: the HTTP loop appends input, the runtime ticks.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import orjson

from connectors.serve.codec import Journaled, decode_event, encode_event
from engine.events import InputEvent, Rejected

log = logging.getLogger("vigil.serve")

PREFIX: Final = "journal-"
SUFFIX: Final = ".jsonl"
SEGMENT_BYTES: Final = 64 * 1024 * 1024
"""A new segment starts once the current one is this large."""


@dataclass(frozen=True, slots=True)
class Record:
    """One journal record: where it ends (the offset to resume after it), its wall-clock time
    and its encoded events (none for a tick)."""

    end: int
    at: float
    events: list[dict[str, Any]]
    unreadable: bytes | None = None
    """The line, when it does not parse (a damaged disk): the runtime dead-letters it."""


class InputJournal:
    """Append-only segmented journal of accepted input (see the module docstring)."""

    def __init__(
        self,
        directory: Path,
        *,
        segment_bytes: int = SEGMENT_BYTES,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = directory
        self.segment_bytes = segment_bytes
        self.wall_clock = wall_clock
        self._lock = threading.Lock()
        self.appended = threading.Condition(self._lock)
        directory.mkdir(parents=True, exist_ok=True)
        self.segments = sorted(_segment_start(p) for p in directory.glob(f"{PREFIX}*{SUFFIX}"))
        if not self.segments:
            self.segments = [0]
            self._path(0).touch()
        self.end = self.segments[-1] + _trim_torn_tail(self._path(self.segments[-1]))
        self.last_at = float("-inf")
        self._handle = self._path(self.segments[-1]).open("ab")

    def _path(self, start: int) -> Path:
        return self.directory / f"{PREFIX}{start:020d}{SUFFIX}"

    def append(self, events: list[Journaled]) -> int:
        """Write one record of ``events`` (a tick when empty) durably; its end offset."""
        encoded = [encode_event(e) for e in events]
        with self._lock:
            self.last_at = max(self.last_at, self.wall_clock())
            body: dict[str, Any] = {"at": self.last_at}
            if encoded:
                body["events"] = encoded
            line = orjson.dumps(body) + b"\n"
            if self.end - self.segments[-1] >= self.segment_bytes:
                self._roll()
            self._handle.write(line)
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self.end += len(line)
            self.appended.notify_all()
            return self.end

    def _roll(self) -> None:
        self._handle.close()
        self.segments.append(self.end)
        self._handle = self._path(self.end).open("ab")
        _fsync_dir(self.directory)

    def skip_to(self, offset: int) -> None:
        """Continue at ``offset`` if the journal ends before it (its files were removed while a
        checkpoint still covers them): offsets never repeat, so none is mistaken for processed.
        """
        with self._lock:
            if self.end < offset:
                log.warning("journal: ends at %d before the checkpoint's %d", self.end, offset)
                self.end = offset
                self._roll()

    def wait(self, offset: int, timeout_s: float) -> bool:
        """Block until the journal holds more than ``offset`` bytes or ``timeout_s`` passed."""
        with self._lock:
            return self.appended.wait_for(lambda: self.end > offset, timeout_s)

    def read(self, offset: int, max_bytes: int = 4 * 1024 * 1024) -> list[Record]:
        """Whole records from ``offset`` on (at least one when there is one), about
        ``max_bytes`` of them, within one segment."""
        with self._lock:
            end, segments = self.end, list(self.segments)
        if offset >= end:
            return []
        start = max(s for s in segments if s <= offset)
        later = [s for s in segments if s > offset]
        stop = min([end, *later])
        with self._path(start).open("rb") as handle:
            handle.seek(offset - start)
            data = handle.read(min(stop - offset, max_bytes))
            while b"\n" not in data:  # one record larger than max_bytes
                more = handle.read(min(stop - offset - len(data), max_bytes))
                if not more:  # the file was cut behind our back: nothing whole to read
                    break
                data += more
        return _records(data[: data.rfind(b"\n") + 1], offset)

    def release(self, offset: int) -> None:
        """Delete the segments that end at or before ``offset`` (a checkpoint covers them)."""
        with self._lock:
            done = [s for s, nxt in zip(self.segments, self.segments[1:], strict=False)
                    if nxt <= offset]
            self.segments = [s for s in self.segments if s not in done]
        for start in done:
            self._path(start).unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            self._handle.close()


def _records(data: bytes, offset: int) -> list[Record]:
    """The records of ``data``: whole lines from journal offset ``offset``."""
    out: list[Record] = []
    position = 0
    while position < len(data):
        newline = data.index(b"\n", position)
        line = data[position:newline]
        position = newline + 1
        try:
            body = orjson.loads(line)
            out.append(Record(offset + position, float(body["at"]), body.get("events", [])))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            out.append(Record(offset + position, float("-inf"), [], line))
    return out


def _segment_start(path: Path) -> int:
    return int(path.name[len(PREFIX) : -len(SUFFIX)])


def _trim_torn_tail(path: Path) -> int:
    """Cut a last line without its newline (a write a crash interrupted); the size left."""
    data = path.read_bytes()
    keep = data.rfind(b"\n") + 1
    if keep < len(data):
        log.warning("journal: dropping a torn record path=%s bytes=%d", path, len(data) - keep)
        with path.open("r+b") as handle:
            handle.truncate(keep)
            os.fsync(handle.fileno())
    return keep


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(slots=True)
class JournalIngest:
    """The HTTP API's ``Ingest`` port (``connectors.http.ingest``) over the journal.

    A batch is acknowledged (``True``: the API answers 2xx) only once it is in the journal on
    disk. Batches that arrive while a write is under way are written together as the next
    record, with one ``fsync`` (group commit). ``False`` (the API answers 503 +
    ``Retry-After``, senders retry) when the runtime is more than ``max_backlog_bytes`` behind
    (``consumed``: the offset it has processed up to, which it sets), shutting down
    (``closed``), or the disk refuses the write. Called on one event loop (the server's).
    """

    journal: InputJournal
    max_backlog_bytes: int = 256 * 1024 * 1024
    consumed: int = 0
    closed: bool = False
    """Set at shutdown: nothing more is accepted."""
    newest: float | None = None
    """The newest event time accepted (``event_time``; the runtime sets it at start)."""
    _waiting: list[tuple[list[Journaled], asyncio.Future[bool]]] = field(default_factory=list)
    _writer: asyncio.Task[None] | None = None

    async def __call__(self, events: list[Journaled]) -> bool:
        if not events:
            return True
        if self.closed or self.journal.end - self.consumed > self.max_backlog_bytes:
            return False
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((events, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.ensure_future(self._write())
        return await done

    def event_time(self) -> float | None:
        """The newest event time accepted so far (``None`` before any): what ``vigil serve
        --clock event`` receives requests at (``connectors.http.state.received_at``)."""
        return self.newest

    def note_accepted(self, events: list[Journaled]) -> None:
        """Move ``newest`` on to the events' newest time."""
        times = [e.ts for e in events if not isinstance(e, Rejected)]
        if times and (self.newest is None or max(times) > self.newest):
            self.newest = max(times)

    async def _write(self) -> None:
        """Write what waits, one record per round, until nothing does."""
        while self._waiting:
            group, self._waiting = self._waiting, []
            events = [event for batch, _ in group for event in batch]
            try:
                await asyncio.to_thread(self.journal.append, events)
                written = True
            except OSError as exc:
                log.error("journal: cannot write accepted input reason=%s", exc)
                written = False
            if written:
                self.note_accepted(events)
            for _, done in group:
                if not done.done():
                    done.set_result(written)


def events_of(record: Record) -> list[InputEvent | Rejected]:
    """The record's events; what cannot be read back (a damaged line, an event this version
    does not know) is a dead letter, never a stop."""
    if record.unreadable is not None:
        reason = f"journal: record ending at offset {record.end} does not parse"
        return [Rejected("journal", reason, record.unreadable, None, record.end)]
    out: list[InputEvent | Rejected] = []
    for data in record.events:
        try:
            out.append(decode_event(data))
        except (KeyError, TypeError, ValueError) as exc:
            reason = f"journal: cannot read an event back ({type(exc).__name__}: {exc})"
            out.append(Rejected("journal", reason, orjson.dumps(data), None, record.end))
    return out
