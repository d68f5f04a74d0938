"""Follow every partition of some topics without a consumer group (each worker reads it all).

``TopicFollower`` assigns itself all partitions of its topics (no group, no commits) and hands
each fetched batch to ``on_records(topic, records)``. It starts from the beginning of each
partition or, with ``lookback_s``, from the first record whose broker timestamp is at most
``lookback_s`` old (``offsets_for_times``; a partition with nothing that recent starts at its
end). ``catch_up()`` reads until the end offsets seen at start, so a caller can wait until it
knows everything written before it started (the silence store does, the incident view does not).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Final

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

log = logging.getLogger("vigil.follower")

OnRecords = Callable[[str, Sequence[ConsumerRecord]], None]
POLL_MS: Final = 200
RETRY_S: Final = 1.0
METADATA_WAIT_S: Final = 10.0


class TopicFollower:
    """A group-less consumer over all partitions of ``topics`` (see the module docstring)."""

    def __init__(
        self,
        topics: Sequence[str],
        client_kwargs: dict[str, Any],
        on_records: OnRecords,
        *,
        lookback_s: float | None = None,
    ) -> None:
        self.topics, self.on_records, self.lookback_s = list(topics), on_records, lookback_s
        self.consumer = AIOKafkaConsumer(
            enable_auto_commit=False, auto_offset_reset="earliest", **client_kwargs
        )
        self.partitions: list[TopicPartition] = []
        self.read = 0

    async def start(self) -> None:
        await self.consumer.start()
        self.partitions = await self._partitions()
        self.consumer.assign(self.partitions)
        if self.lookback_s is None:
            await self.consumer.seek_to_beginning(*self.partitions)
            return
        since_ms = int((time.time() - self.lookback_s) * 1000)
        found = await self.consumer.offsets_for_times({tp: since_ms for tp in self.partitions})
        ends = await self.consumer.end_offsets(self.partitions)
        for tp in self.partitions:
            hit = found.get(tp)
            self.consumer.seek(tp, hit.offset if hit is not None else ends[tp])

    async def _partitions(self) -> list[TopicPartition]:
        deadline = time.monotonic() + METADATA_WAIT_S
        while True:
            await self.consumer.topics()  # refreshes metadata
            known = {t: self.consumer.partitions_for_topic(t) for t in self.topics}
            if all(known.values()) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        missing = sorted(t for t, parts in known.items() if not parts)
        if missing:
            log.warning("follower topics without partitions topics=%s", ",".join(missing))
        return [TopicPartition(t, p) for t, parts in known.items() for p in sorted(parts or ())]

    async def catch_up(self, timeout_s: float = 30.0) -> bool:
        """Read until the end offsets as of now; ``False`` if that took over ``timeout_s``."""
        ends = await self.consumer.end_offsets(self.partitions)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            behind = [tp for tp, end in ends.items() if await self.consumer.position(tp) < end]
            if not behind:
                return True
            await self.step()
        log.warning("follower did not catch up topics=%s timeout_s=%s", self.topics, timeout_s)
        return False

    async def step(self) -> None:
        """Fetch once and hand each partition's records over."""
        batches = await self.consumer.getmany(timeout_ms=POLL_MS, max_records=5000)
        for tp, records in batches.items():
            self.read += len(records)
            self.on_records(tp.topic, records)

    async def run(self, stop: asyncio.Event) -> None:
        """Follow until ``stop`` is set; broker errors are logged and retried."""
        while not stop.is_set():
            try:
                await self.step()
            except KafkaError as exc:
                log.warning("follower fetch failed topics=%s reason=%s", self.topics, exc)
                await asyncio.sleep(RETRY_S)

    async def stop(self) -> None:
        await self.consumer.stop()
