"""In-memory checkpoint store: the real adapter tests use (state lives as long as the object)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import orjson

from connectors.checkpoint import Snapshot


class MemoryCheckpointStore:
    """Keeps the encoded snapshots in a dict.

    ``journal`` records the keys of every ``save`` call in order (for ordering checks).
    """

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}
        self.journal: list[tuple[str, ...]] = []

    async def load(self, keys: Iterable[str]) -> dict[str, Snapshot]:
        return {k: orjson.loads(self._data[k]) for k in keys if k in self._data}

    async def save(self, snapshots: Mapping[str, bytes]) -> None:
        self._data.update(snapshots)
        self.journal.append(tuple(snapshots))

    async def close(self) -> None:
        return None
