"""Output files of ``vigil serve``: JSON Lines appended across restarts, cut back to a checkpoint.

The pipeline's outputs after the last checkpoint are produced again when the runtime replays
the journal from that checkpoint, so at start each such file is cut to the size the checkpoint
recorded (``keep``) and the replay writes the same lines again: the files end up as an
uninterrupted run would have written them. ``actions.jsonl`` holds delivery outcomes, which
come from the outbox rather than from the replay; it is only ever appended to.
"""

from __future__ import annotations

import os
from pathlib import Path

from connectors.files import JsonlWriter


class OutputFile(JsonlWriter):
    """A ``JsonlWriter`` that appends, after cutting the file to ``keep`` bytes (``None``: as
    it is)."""

    def __init__(self, path: Path, keep: int | None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        with path.open("ab") as handle:
            if keep is not None and handle.tell() > keep:
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
