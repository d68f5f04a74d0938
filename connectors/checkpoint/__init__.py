"""Stores for operator state, one snapshot per (stage, topic, partition) key.

A snapshot is plain JSON-able data: ``{"offset": next offset to read, "state": ..., ...}``.
``CheckpointStore`` is the port the Kafka runner writes through; ``memory`` is the real
in-memory adapter (tests), ``file`` writes one JSON file per key, ``kafka`` a compacted topic.
Stores never interpret the state; they must return the last snapshot saved under a key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

Snapshot = dict[str, Any]


class CheckpointStore(Protocol):
    """Durable last-write-wins map from partition key to snapshot."""

    async def load(self, keys: Iterable[str]) -> dict[str, Snapshot]:
        """The latest snapshot of each key that has one (missing keys are left out)."""
        ...

    async def save(self, snapshots: Mapping[str, Snapshot]) -> None:
        """Write every snapshot durably before returning."""
        ...

    async def close(self) -> None: ...


__all__ = ["CheckpointStore", "Snapshot"]
