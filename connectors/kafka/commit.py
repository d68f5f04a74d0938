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

``BackgroundCheckpoint`` runs the three steps in a task while the worker keeps processing.
What a checkpoint covers is fixed when it starts, synchronously, between two batches: the
outputs sent so far (``OutputSink.detach``), each partition's state encoded to bytes and the
next offsets. Outputs and state of later batches belong to the next checkpoint, which starts
only after this one finished, so snapshots and commits never go backwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Protocol

from aiokafka import TopicPartition

from connectors.checkpoint import CheckpointStore


class Flushable(Protocol):
    async def flush(self) -> None: ...


class OffsetCommitter(Protocol):
    """``AIOKafkaConsumer.commit`` has this shape."""

    async def commit(self, offsets: dict[TopicPartition, int]) -> None: ...


async def write_checkpoint(
    sink: Flushable,
    store: CheckpointStore,
    committer: OffsetCommitter,
    snapshots: Mapping[str, bytes],
    offsets: Mapping[TopicPartition, int],
) -> None:
    """Run the three steps in order (see the module docstring); ``snapshots`` are encoded
    (``connectors.checkpoint.encode_snapshot``)."""
    await sink.flush()
    if snapshots:
        await store.save(snapshots)
    if offsets:
        await committer.commit(dict(offsets))


class BackgroundCheckpoint:
    """At most one ``write_checkpoint`` in flight, run as a task.

    ``start`` returns at once (``False`` when the previous write is still running: the caller
    tries again later, its outputs and state keep accumulating); ``settle`` waits for the
    write in flight; ``check`` re-raises a failed write's error in the caller (a worker must
    stop rather than go on without durable checkpoints). ``on_written`` runs after each
    successful write, with the keys it saved.
    """

    def __init__(
        self,
        store: CheckpointStore,
        committer: OffsetCommitter,
        on_written: Callable[[list[str]], None] | None = None,
    ) -> None:
        self.store, self.committer, self.on_written = store, committer, on_written
        self._task: asyncio.Task[None] | None = None

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(
        self,
        outputs: Flushable,
        snapshots: Mapping[str, bytes],
        offsets: Mapping[TopicPartition, int],
    ) -> bool:
        if self.busy:
            return False
        self.check()
        self._task = asyncio.get_running_loop().create_task(
            self._write(outputs, dict(snapshots), dict(offsets))
        )
        return True

    async def _write(
        self, outputs: Flushable, snapshots: dict[str, bytes], offsets: dict[TopicPartition, int]
    ) -> None:
        await write_checkpoint(outputs, self.store, self.committer, snapshots, offsets)
        if self.on_written is not None:
            self.on_written(list(snapshots))

    def check(self) -> None:
        """Raise the error of a finished, failed write (once)."""
        task = self._task
        if task is not None and task.done():
            self._task = None
            task.result()

    async def settle(self) -> None:
        """Wait for the write in flight (if any); raise its error."""
        task = self._task
        if task is not None:
            await asyncio.wait([task])
            self.check()
