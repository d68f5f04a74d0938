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
        record = {**action.to_wire(), "payload": action.payload}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as handle:
                handle.write(orjson.dumps(record) + b"\n")
        except OSError as exc:
            raise DeliveryError(
                self.name, f"cannot write {self.path}: {exc.strerror}", retryable=True
            ) from None
