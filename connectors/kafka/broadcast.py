"""The topology topic, read in full by every worker (a broadcast, not a consumer group).

Every incident-stage partition needs the whole dependency graph, so each worker reads every
partition of the topology topic from the beginning and keeps the decoded updates with their
offsets; incident tasks apply the ones they have not seen (tracked in their snapshot). The
topology topic is created with one partition so the update order is total.
"""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from connectors.kafka.decoder import decode_batch
from engine.events import InputKind, Rejected, TopologyUpdate


class TopologyBroadcast:
    """Group-less reader of the topology topic; ``updates`` grows as records arrive."""

    def __init__(self, topic: str, client_kwargs: dict[str, Any]) -> None:
        self.topic = topic
        self._consumer = AIOKafkaConsumer(
            enable_auto_commit=False, auto_offset_reset="earliest", **client_kwargs
        )
        self.updates: list[tuple[int, TopologyUpdate]] = []

    async def start(self) -> None:
        await self._consumer.start()
        tp = TopicPartition(self.topic, 0)
        self._consumer.assign([tp])
        await self._consumer.seek_to_beginning(tp)
        end = (await self._consumer.end_offsets([tp]))[tp]
        while await self._consumer.position(tp) < end:
            await self.poll(timeout_ms=200)

    async def poll(self, timeout_ms: int = 0) -> list[Rejected]:
        """Read what has arrived; returns dead letters (every worker reports the same ones)."""
        batches = await self._consumer.getmany(timeout_ms=timeout_ms)
        rejected: list[Rejected] = []
        for tp, records in batches.items():
            for r in records:
                events, bad = decode_batch(InputKind.TOPOLOGY, self.topic, tp.partition, [r])
                self.updates.extend((r.offset, e) for e in events if isinstance(e, TopologyUpdate))
                rejected.extend(bad)
        return rejected

    async def stop(self) -> None:
        await self._consumer.stop()
