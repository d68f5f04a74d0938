"""Kafka checkpoint store: snapshots as records of a compacted topic, keyed by partition key.

Reads are incremental: the store keeps a group-less consumer assigned to every partition of the
state topic and, on each ``load``, catches up to the end offsets it read at the start of the call,
so a snapshot written by another worker before a rebalance is seen by the next owner. Brokers
that do not compact (Tansu keeps every record) only cost restore time: last write wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from connectors.checkpoint import Snapshot

MAX_SNAPSHOT_BYTES = 16 * 1024 * 1024


class KafkaCheckpointStore:
    """Last-write-wins snapshots in ``topic``; ``client_kwargs`` carry bootstrap and security."""

    def __init__(self, topic: str, client_kwargs: dict[str, Any]) -> None:
        self.topic = topic
        self._client_kwargs = client_kwargs
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._latest: dict[str, bytes] = {}

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            acks="all", max_request_size=MAX_SNAPSHOT_BYTES, linger_ms=0, **self._client_kwargs
        )
        await self._producer.start()
        self._consumer = AIOKafkaConsumer(
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=MAX_SNAPSHOT_BYTES,
            fetch_max_bytes=4 * MAX_SNAPSHOT_BYTES,
            **self._client_kwargs,
        )
        await self._consumer.start()
        await self._consumer.topics()  # refreshes metadata
        partitions = self._consumer.partitions_for_topic(self.topic) or {0}
        tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        self._consumer.assign(tps)
        await self._consumer.seek_to_beginning(*tps)

    async def _catch_up(self) -> None:
        if self._consumer is None:
            raise RuntimeError("KafkaCheckpointStore.start() was not called")
        tps = list(self._consumer.assignment())
        ends = await self._consumer.end_offsets(tps)
        while [tp for tp in tps if await self._consumer.position(tp) < ends[tp]]:
            batches = await self._consumer.getmany(timeout_ms=200, max_records=10_000)
            for records in batches.values():
                for record in records:
                    if record.key is not None and record.value is not None:
                        self._latest[record.key.decode()] = record.value

    async def load(self, keys: Iterable[str]) -> dict[str, Snapshot]:
        await self._catch_up()
        return {k: orjson.loads(self._latest[k]) for k in keys if k in self._latest}

    async def save(self, snapshots: Mapping[str, bytes]) -> None:
        if self._producer is None:
            raise RuntimeError("KafkaCheckpointStore.start() was not called")
        futures = []
        for key, value in snapshots.items():
            futures.append(await self._producer.send(self.topic, value, key=key.encode()))
            self._latest[key] = value
        for future in futures:
            await future

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
        if self._consumer is not None:
            await self._consumer.stop()
