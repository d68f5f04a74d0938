"""File checkpoint store: one JSON file per key, replaced atomically (write temp, fsync, rename)."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import orjson

from connectors.checkpoint import Snapshot

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


class FileCheckpointStore:
    """Snapshots under ``directory``; survives a SIGKILL of the process (not of the disk)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.directory / f"{_UNSAFE.sub('_', key)}.json"

    async def load(self, keys: Iterable[str]) -> dict[str, Snapshot]:
        out: dict[str, Snapshot] = {}
        for key in keys:
            path = self._path(key)
            if path.exists():
                out[key] = orjson.loads(path.read_bytes())
        return out

    async def save(self, snapshots: Mapping[str, bytes]) -> None:
        """Write in a thread: fsync takes milliseconds the event loop keeps processing in."""
        await asyncio.to_thread(self._write, dict(snapshots))

    def _write(self, snapshots: dict[str, bytes]) -> None:
        for key, value in snapshots.items():
            path = self._path(key)
            tmp = path.with_suffix(".tmp")
            with open(tmp, "wb") as fh:
                fh.write(value)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)

    async def close(self) -> None:
        return None
