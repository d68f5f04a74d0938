"""Replay folders (see docs/events.md): reading input files, writing JSON Lines outputs."""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import orjson
import yaml

from engine.events import InputEvent, InputKind, Rejected
from engine.ingest.decode import Origin, decode_object, decode_record
from engine.ingest.watermark import Sourced

TOPOLOGY_FILES = ("topology.json", "topology.yaml", "topology.yml")


@dataclass(slots=True)
class ReadProgress:
    """Bytes read so far over all input files, for the progress bar."""

    total_bytes: int = 0
    read_bytes: int = 0
    rejected: list[Rejected] = field(default_factory=list)


def scenario_files(folder: Path) -> dict[InputKind, Path]:
    """The input files present in a replay folder, by kind."""
    found: dict[InputKind, Path] = {}
    for kind in InputKind:
        if kind is InputKind.TOPOLOGY:
            path = next((folder / n for n in TOPOLOGY_FILES if (folder / n).is_file()), None)
        else:
            path = folder / f"{kind.value}.jsonl"
        if path is not None and path.is_file():
            found[kind] = path
    return found


def read_events(folder: Path, progress: ReadProgress) -> Iterator[InputEvent]:
    """Every decodable event of the folder, merged by event time; rejects go to ``progress``."""
    for item in read_sourced(folder, progress):
        yield item.event


def read_sourced(folder: Path, progress: ReadProgress) -> Iterator[Sourced]:
    """Like ``read_events``, each event with its file name, line number and raw line.

    Files are merged by event time assuming each is in order; a line older than the lines
    before it in its own file comes out where it stands (the watermark tells it is late).
    """
    files = scenario_files(folder)
    progress.total_bytes = sum(p.stat().st_size for p in files.values())
    streams = [
        _keyed(_read_file(kind, path, progress), rank)
        for rank, (kind, path) in enumerate(
            sorted(files.items(), key=lambda kv: kv[0] is not InputKind.TOPOLOGY)
        )
    ]
    for _, _, _, item in heapq.merge(*streams):
        yield item


def _keyed(events: Iterator[Sourced], rank: int) -> Iterator[tuple[float, int, int, Any]]:
    for seq, item in enumerate(events):
        yield (item.event.ts, rank, seq, item)


def _read_file(kind: InputKind, path: Path, progress: ReadProgress) -> Iterator[Sourced]:
    if kind is InputKind.TOPOLOGY:
        raw = path.read_bytes()
        progress.read_bytes += len(raw)
        obj = yaml.safe_load(raw) if path.suffix in (".yaml", ".yml") else None
        origin = Origin(path.name, timestamp=0.0)
        out = (
            decode_object(kind, obj, origin, raw)
            if obj is not None
            else decode_record(kind, raw, origin)
        )
        for event in _keep(out, progress):
            yield Sourced(path.name, event, raw=raw)
        return
    previous_ts: float | None = None
    with path.open("rb") as handle:
        for line_no, line in enumerate(handle, start=1):
            progress.read_bytes += len(line)
            body = line.rstrip(b"\r\n")
            if not body.strip():
                continue
            for event in _keep(
                decode_record(kind, body, Origin(path.name, None, line_no, previous_ts)), progress
            ):
                previous_ts = event.ts
                yield Sourced(path.name, event, offset=line_no, raw=body)


def _keep(events: list[InputEvent | Rejected], progress: ReadProgress) -> Iterator[InputEvent]:
    for event in events:
        if isinstance(event, Rejected):
            progress.rejected.append(event)
        else:
            yield event


class JsonlWriter:
    """Appends wire objects as JSON Lines; one file per output stream."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._handle: IO[bytes] = path.open("wb")
        self.count = 0

    def write(self, obj: dict[str, Any]) -> None:
        self._handle.write(orjson.dumps(obj) + b"\n")
        self.count += 1

    def flush(self) -> None:
        """Hand what was written to the OS (and to disk: a checkpoint follows)."""
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def write_scenario(
    folder: Path, records: dict[InputKind, list[dict[str, Any]]], topology: dict[str, Any]
) -> None:
    """Write a generated scenario as a replay folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "topology.json").write_bytes(orjson.dumps(topology, option=orjson.OPT_INDENT_2))
    for kind, rows in records.items():
        with JsonlWriter(folder / f"{kind.value}.jsonl") as writer:
            for row in rows:
                writer.write(row)
