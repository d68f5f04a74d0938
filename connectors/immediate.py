"""Synchronous delivery to local receivers (console and JSON Lines files) for embedded runs."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import TextIO

import orjson

from engine.events import Action, ActionStatus


class LocalDeliverer:
    """Delivers ``console`` actions as a line on ``stream`` and ``file`` actions to a file."""

    def __init__(self, out_dir: Path, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.out_dir, self.stream, self.quiet = out_dir, stream or sys.stdout, quiet

    def __call__(self, actions: list[Action]) -> list[Action]:
        done = []
        for action in actions:
            if action.type == "file":
                path = self.out_dir / str(action.payload.get("path") or f"{action.receiver}.jsonl")
                with path.open("ab") as handle:
                    handle.write(orjson.dumps(action.payload) + b"\n")
            elif action.type == "console" and not self.quiet:
                incident = action.payload.get("incident")
                status = incident.get("status") if isinstance(incident, dict) else "?"
                self.stream.write(f"[{action.receiver}] incident {action.incident} {status}\n")
            done.append(dataclasses.replace(action, status=ActionStatus.DELIVERED, attempts=1))
        return done
