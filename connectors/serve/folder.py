"""The state folder of ``vigil serve``: its lock, output files, and what a start recovers.

Output files are JSON Lines appended across restarts and cut back to a checkpoint: the
pipeline's outputs after the last checkpoint are produced again when the runtime replays the
journal from it, so at start each such file is cut to the size the checkpoint recorded and the
replay writes the same lines again (the files end up as an uninterrupted run writes them).
``actions.jsonl`` holds delivery outcomes, which come from the outbox, not from the replay: it
is only appended to, and outcomes the outbox recorded but the file missed are added at start.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO, Any

import orjson

from connectors.errors import ConnectorError
from connectors.files import JsonlWriter
from connectors.kafka.view import incident_from_wire
from connectors.outbox import SqliteOutbox
from engine.events import Incident


class OutputFile(JsonlWriter):
    """A ``JsonlWriter`` that appends, after cutting the file to ``keep`` bytes (``None``: its
    whole lines; a last line a crash cut short goes). ``flush`` hands lines to the OS
    (readable at once); ``sync`` makes them durable."""

    def __init__(self, path: Path, keep: int | None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        with path.open("a+b") as handle:
            size = handle.seek(0, os.SEEK_END)
            keep = _whole_lines(handle, size) if keep is None else keep
            if size > keep:
                handle.truncate(keep)
        self._handle = path.open("ab")
        self.count = 0

    def flush(self) -> None:
        self._handle.flush()

    def sync(self) -> int:
        """Flush and fsync; the file's size (what a checkpoint records)."""
        self._handle.flush()
        os.fsync(self._handle.fileno())
        return self._handle.tell()


def _whole_lines(handle: IO[bytes], size: int, chunk: int = 64 * 1024) -> int:
    """The size of the file's whole lines: up to and with its last newline."""
    end = size
    while end > 0:
        start = max(0, end - chunk)
        handle.seek(start)
        newline = handle.read(end - start).rfind(b"\n")
        if newline >= 0:
            return start + newline + 1
        end = start
    return 0


def lock(state_dir: Path) -> IO[bytes]:
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


def recover_outcomes(outbox: Path, actions: OutputFile) -> None:
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


def latest_incidents(path: Path) -> list[Incident]:
    """The latest record of each incident in an ``incidents.jsonl`` (for the console)."""
    latest: dict[str, Incident] = {}
    with path.open("rb") as handle:
        for line in handle:
            incident = incident_from_wire(orjson.loads(line))
            if incident is not None:
                latest[incident.id] = incident
    return list(latest.values())


def upgrade_v1_to_v2(snapshot: dict[str, Any]) -> dict[str, Any]:
    """Version 1 (before the shared runner) kept the intake's marks and series beside a
    pipeline state without an intake slot, and its event time as ``now``."""
    pipeline = snapshot["pipeline"]
    intake = {"version": 1, "marks": snapshot["marks"], "series": snapshot["series"]}
    return {
        "version": 2,
        "state": {**pipeline, "slots": {**pipeline["slots"], "intake": intake}},
        "clock": snapshot.get("clock"),
        "floor": snapshot["now"],
        "events_in": 0,
        "offset": snapshot["offset"],
        "outputs": snapshot["outputs"],
    }
