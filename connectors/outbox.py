"""The durable outbox between deciding and sending: a crash in between loses nothing.

``Outbox`` is the port; ``SqliteOutbox`` serves embedded mode (one file), ``MemoryOutbox``
tests and benchmarks, and the Kafka runtime supplies a topic-backed one. ``put`` ignores an
action id it has seen before (the id is the idempotency key), so replaying decisions after a
restart never queues a second copy, and a delivered action is never sent again.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import orjson

from engine.events import Action, ActionStatus


@dataclass(slots=True)
class Entry:
    """An action waiting in the outbox, and how its delivery is going."""

    seq: int
    action: Action
    attempts: int = 0
    next_at: float = 0.0
    error: str | None = None
    first_at: float | None = None
    """Clock time of the first attempt in this process (deadlines restart after a restart)."""

    @property
    def lane(self) -> str:
        """Deliveries in one lane (receiver + incident) go strictly in order."""
        return f"{self.action.receiver}|{self.action.incident}"


class Outbox(Protocol):
    def put(self, actions: list[Action]) -> list[Entry]:
        """Store new actions; return the entries created (already-known ids are skipped)."""
        ...

    def pending(self) -> list[Entry]:
        """Every undelivered entry, oldest first."""
        ...

    def retry_later(self, entry: Entry) -> None: ...

    def finish(self, entry: Entry, final: Action) -> None:
        """Record the outcome (delivered / failed / suppressed); the entry leaves the queue."""
        ...

    def close(self) -> None: ...


class MemoryOutbox:
    """In-process outbox (not durable); same behaviour as ``SqliteOutbox`` otherwise."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._pending: dict[str, Entry] = {}
        self._seq = 0
        self.finished: dict[str, Action] = {}

    def put(self, actions: list[Action]) -> list[Entry]:
        fresh = []
        for action in actions:
            if action.id in self._seen:
                continue
            self._seen.add(action.id)
            self._seq += 1
            entry = Entry(self._seq, action)
            self._pending[action.id] = entry
            fresh.append(entry)
        return fresh

    def pending(self) -> list[Entry]:
        return sorted(self._pending.values(), key=lambda e: e.seq)

    def retry_later(self, entry: Entry) -> None:
        pass

    def finish(self, entry: Entry, final: Action) -> None:
        self._pending.pop(entry.action.id, None)
        self.finished[final.id] = final

    def close(self) -> None:
        pass


_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  action BLOB NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at REAL NOT NULL DEFAULT 0,
  error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_status ON outbox(status, seq);
"""


class SqliteOutbox:
    """Outbox in one SQLite file (WAL, synchronous=NORMAL: durable across process crashes)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)

    def put(self, actions: list[Action]) -> list[Entry]:
        fresh = []
        self.db.execute("BEGIN")
        for action in actions:
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO outbox(id, action, status) VALUES (?, ?, 'pending')",
                (action.id, _encode(action)),
            )
            if cursor.rowcount:
                fresh.append(Entry(int(cursor.lastrowid or 0), action))
        self.db.execute("COMMIT")
        return fresh

    def pending(self) -> list[Entry]:
        rows = self.db.execute(
            "SELECT seq, action, attempts, next_at, error FROM outbox "
            "WHERE status = 'pending' ORDER BY seq"
        )
        return [Entry(seq, _decode(blob), n, at, err) for seq, blob, n, at, err in rows]

    def retry_later(self, entry: Entry) -> None:
        self.db.execute(
            "UPDATE outbox SET attempts = ?, next_at = ?, error = ? WHERE seq = ?",
            (entry.attempts, entry.next_at, entry.error, entry.seq),
        )

    def finish(self, entry: Entry, final: Action) -> None:
        self.db.execute(
            "UPDATE outbox SET status = ?, attempts = ?, error = ?, action = ? WHERE seq = ?",
            (final.status.value, final.attempts, final.error, _encode(final), entry.seq),
        )

    def finished(self) -> list[Action]:
        """Every outcome recorded (delivered, failed, suppressed), oldest first."""
        rows = self.db.execute("SELECT action FROM outbox WHERE status != 'pending' ORDER BY seq")
        return [_decode(blob) for (blob,) in rows]

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status"))

    def close(self) -> None:
        self.db.close()


def _encode(action: Action) -> bytes:
    return orjson.dumps(action.to_wire(payload=True))


def _decode(blob: bytes) -> Action:
    return Action.from_wire(orjson.loads(blob))


def final_of(entry: Entry, status: ActionStatus, error: str | None = None) -> Action:
    """The action record reported once delivery is over."""
    return dataclasses.replace(entry.action, status=status, attempts=entry.attempts, error=error)
