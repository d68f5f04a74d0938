"""Stores for operator state, one snapshot per (stage, topic, partition) key.

A snapshot is plain JSON-able data: ``{"offset": next offset to read, "state": ..., ...}``.
Stores are handed snapshots already encoded (``encode_snapshot``, JSON bytes): the runner
serializes a partition's state at the moment it takes the snapshot, because operator states
share live containers (a series model's lists) that keep changing while the write is pending.
``CheckpointStore`` is the port the Kafka runner writes through; ``memory`` is the real
in-memory adapter (tests), ``file`` writes one JSON file per key, ``kafka`` a compacted topic.
Stores never interpret the state; they must return the last snapshot saved under a key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import orjson

Snapshot = dict[str, Any]


def encode_snapshot(snapshot: Snapshot) -> bytes:
    """The bytes a store keeps for ``snapshot`` (``load`` returns them decoded).

    >>> encode_snapshot({"offset": 7, "state": None})
    b'{"offset":7,"state":null}'
    """
    return orjson.dumps(snapshot)


class CheckpointStore(Protocol):
    """Durable last-write-wins map from partition key to snapshot."""

    async def load(self, keys: Iterable[str]) -> dict[str, Snapshot]:
        """The latest snapshot of each key that has one (missing keys are left out)."""
        ...

    async def save(self, snapshots: Mapping[str, bytes]) -> None:
        """Write every encoded snapshot (``encode_snapshot``) durably before returning."""
        ...

    async def close(self) -> None: ...


__all__ = ["CheckpointStore", "Snapshot", "encode_snapshot"]
