"""The checkpoint protocol: flush outputs -> write operator state -> commit offsets.

That order is what makes processing at-least-once with stable output ids:

1. **Flush** every output produced so far, so nothing a snapshot accounts for can be lost.
2. **Write state** (one snapshot per partition, holding the next offset to read), so that
   after a crash the state and the input position agree exactly; re-processing from there
   yields the same outputs with the same ids, which consumers de-duplicate.
3. **Commit offsets** last. They are a hint (lag dashboards, partitions without a snapshot);
   a restored task seeks to its snapshot's offset, which is never behind the committed one.

A failure at any step raises and skips the later steps, so a step never runs ahead of the ones
before it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from aiokafka import TopicPartition

from connectors.checkpoint import CheckpointStore, Snapshot


class Flushable(Protocol):
    async def flush(self) -> None: ...


class OffsetCommitter(Protocol):
    """``AIOKafkaConsumer.commit`` has this shape."""

    async def commit(self, offsets: dict[TopicPartition, int]) -> None: ...


async def write_checkpoint(
    sink: Flushable,
    store: CheckpointStore,
    committer: OffsetCommitter,
    snapshots: Mapping[str, Snapshot],
    offsets: Mapping[TopicPartition, int],
) -> None:
    """Run the three steps in order (see the module docstring)."""
    await sink.flush()
    if snapshots:
        await store.save(snapshots)
    if offsets:
        await committer.commit(dict(offsets))
