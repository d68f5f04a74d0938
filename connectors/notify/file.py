"""File receiver: each action, with its payload, appended as one JSON line, once per id.

Delivery is at least once: a process killed after a line was written but before the outbox
recorded the action delivered sends it again when it restarts. For a file we can do better
than the idempotency key an HTTP receiver gets: the actions in doubt are the ones in flight at
the crash, so they are among the file's last lines, and an action whose id is among them is
not written again (``ActionFile``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import orjson

from connectors.errors import DeliveryError
from engine.events import Action

TAIL_BYTES: Final = 1024 * 1024
"""How much of the file's end is read for ids on the first write (far more than the lines of
the few requests a receiver has in flight)."""


class FileNotifier:
    def __init__(self, name: str, path: Path) -> None:
        self.name, self.path = name, path
        self.file = ActionFile(name, path)

    async def send(self, action: Action) -> None:
        self.file.append(action)


class ActionFile:
    """A JSON Lines file of actions that skips an action already among its last lines."""

    def __init__(self, sink: str, path: Path) -> None:
        self.sink, self.path = sink, path
        self._in_doubt: set[str] | None = None
        self._cut = False

    def append(self, action: Action) -> None:
        """``append_action``, unless a crashed run already wrote ``action`` (module doc)."""
        if self._in_doubt is None:
            self._in_doubt, self._cut = _tail_ids(self.sink, self.path)
        if action.id in self._in_doubt:
            return
        append_action(self.sink, self.path, action, after_cut=self._cut)
        self._cut = False


def _tail_ids(sink: str, path: Path) -> tuple[set[str], bool]:
    """The ids of the whole lines in the last ``TAIL_BYTES`` of ``path``, and whether its last
    line was cut short (a crash in the middle of a write)."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - TAIL_BYTES))
            data = handle.read()
    except FileNotFoundError:
        return set(), False
    except OSError as exc:
        raise DeliveryError(sink, f"cannot read {path}: {exc.strerror}", retryable=True) from None
    lines = data.split(b"\n")[1 if size > TAIL_BYTES else 0 :]  # the first may be cut
    ids = set()
    for line in lines:
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue  # empty, or cut short by a crash
        if isinstance(record, dict) and isinstance(record.get("id"), str):
            ids.add(record["id"])
    return ids, bool(data) and not data.endswith(b"\n")


def append_action(sink: str, path: Path, action: Action, *, after_cut: bool = False) -> None:
    """Append ``action``, with its payload, as one JSON line to ``path`` (on a line of its own
    after a last line cut short: ``after_cut``).

    Raises a retryable ``DeliveryError`` naming ``sink`` when the file cannot be written.
    """
    record = action.to_wire(payload=True)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab") as handle:
            handle.write(b"\n" * after_cut + orjson.dumps(record) + b"\n")
    except OSError as exc:
        raise DeliveryError(sink, f"cannot write {path}: {exc.strerror}", retryable=True) from None
