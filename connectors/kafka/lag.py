"""Consumer lag per partition, sampled on a timer beside the hot loop (never inside it).

For every partition a watched consumer owns, lag = the broker's high watermark (as of the
consumer's last fetch, ``highwater``) minus the consumer's position, exported as
``vigil_consumer_lag_records{topic, partition}``. Partitions no longer owned lose their series.
A partition whose high watermark or position is not known yet (just assigned, still being
restored) is left out of that sample rather than reported as 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import ConsumerStoppedError, IllegalStateError, KafkaError
from prometheus_client import Gauge

log = logging.getLogger("vigil.lag")

POSITION_WAIT_S: Final = 0.5


async def partition_lag(consumer: AIOKafkaConsumer) -> dict[TopicPartition, int]:
    """Records behind the high watermark, per assigned partition with both ends known."""
    out: dict[TopicPartition, int] = {}
    for tp in sorted(consumer.assignment()):
        highwater = consumer.highwater(tp)
        if highwater is None:
            continue
        try:
            position = await asyncio.wait_for(consumer.position(tp), POSITION_WAIT_S)
        except (TimeoutError, IllegalStateError, KafkaError, ConsumerStoppedError):
            continue  # not fetchable right now (revoked, resetting): skip this sample
        out[tp] = max(0, highwater - position)
    return out


class LagMonitor:
    """Samples the lag of ``consumers`` every ``interval_s`` into ``gauge``."""

    def __init__(self, gauge: Gauge, interval_s: float) -> None:
        self.gauge, self.interval_s = gauge, interval_s
        self.consumers: list[AIOKafkaConsumer] = []
        self.exported: set[tuple[str, str]] = set()

    def watch(self, consumer: AIOKafkaConsumer) -> None:
        self.consumers.append(consumer)

    async def sample(self) -> dict[TopicPartition, int]:
        """Export one sample of every watched consumer; returns it."""
        lags: dict[TopicPartition, int] = {}
        for consumer in self.consumers:
            lags.update(await partition_lag(consumer))
        labels = {(tp.topic, str(tp.partition)): lag for tp, lag in lags.items()}
        for (topic, partition), lag in labels.items():
            self.gauge.labels(topic=topic, partition=partition).set(lag)
        for gone in self.exported - set(labels):
            with contextlib.suppress(KeyError):
                self.gauge.remove(*gone)
        self.exported = set(labels)
        return lags

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval_s)
            if not stop.is_set():
                await self.sample()
