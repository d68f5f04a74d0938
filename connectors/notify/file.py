"""File receiver: each action, with its payload, appended as one JSON line."""

from __future__ import annotations

from pathlib import Path

import orjson

from connectors.errors import DeliveryError
from engine.events import Action


class FileNotifier:
    def __init__(self, name: str, path: Path) -> None:
        self.name, self.path = name, path

    async def send(self, action: Action) -> None:
        append_action(self.name, self.path, action)


def append_action(sink: str, path: Path, action: Action) -> None:
    """Append ``action``, with its payload, as one JSON line to ``path``.

    Raises a retryable ``DeliveryError`` naming ``sink`` when the file cannot be written.
    """
    record = action.to_wire(payload=True)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab") as handle:
            handle.write(orjson.dumps(record) + b"\n")
    except OSError as exc:
        raise DeliveryError(sink, f"cannot write {path}: {exc.strerror}", retryable=True) from None
