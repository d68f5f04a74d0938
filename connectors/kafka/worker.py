"""The Kafka runner: poll a batch -> pure pipeline stages per partition -> sinks -> checkpoint.

One consumer group (``group_id``) subscribes to the detect inputs (metrics, logs, predictions,
labels), the context inputs (alerts, changes) and the internal repartition topic. Each owned
partition is a task with its own operator state (``connectors.kafka.tasks``):

* detect partitions emit anomalies to ``anomalies`` and, keyed by cluster, to the repartition
  topic; alerts/changes partitions forward validated events there too;
* repartition partitions run the ``IncidentStage`` for their scope; incidents, actions,
  retrain requests and model-control actions go to their topics (and actions to the outbox);
* the topology topic is broadcast to every worker (``connectors.kafka.broadcast``).

Checkpoint order (every ``checkpoint_interval_s``, on revocation and on stop):
**flush outputs -> write operator state -> commit offsets** (``connectors.kafka.commit``).
The periodic checkpoint takes its snapshots (state encoded to bytes) between two batches and
runs the three steps in the background while processing goes on; revocation and stop wait for
it and write a final one.
Processing is at-least-once: after a SIGKILL, a new owner restores each partition's snapshot and
seeks to its offset, so the few seconds since the last checkpoint are re-processed and yield
the same output ids. Kafka transactions (exactly-once) are not used: Tansu, the test broker,
does not support idempotent producers.

The hot loop consumes with ``getmany`` in large batches and hands whole batches to the pure
operators; per-record work is decoding only. Faust is not used on this path (its per-record
agent machinery caps a worker at ~17k records/s); see deploy/README.md for the trade-off.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import IllegalStateError

from connectors.checkpoint import CheckpointStore, encode_snapshot
from connectors.kafka.broadcast import TopologyBroadcast
from connectors.kafka.commit import BackgroundCheckpoint
from connectors.kafka.config import WorkerConfig
from connectors.kafka.fetched import install as install_raw_records
from connectors.kafka.membership import (
    Committer,
    Rebalance,
    fetch_upstream,
    group_consumer,
    new_task,
    register_sources,
    unseen,
)
from connectors.kafka.sink import Outbox, OutputSink
from connectors.kafka.taskrun import TaskRunner
from connectors.kafka.tasks import Task, pipeline_watermark, source_positions
from connectors.kafka.telemetry import ASSIGNED, METRICS, RECORDS_IN, CheckpointLog, StateSizes
from connectors.kafka.watermarks import FetchProbe, WatermarkPublisher
from connectors.logformat import summarize
from engine.pipeline import Pipeline
from engine.rules.runtime import RuntimeRules

log = logging.getLogger("vigil.worker")
install_raw_records()  # the worker's consumer reads aiokafka's batch records as they are

TOPOLOGY_POLL_S = 0.2
FETCHER_YIELDS = 2
"""Event-loop turns given to aiokafka's fetcher after a poll. It sends the next fetch request
to a broker only once every partition fetched from it was drained, and only when it runs: on
the next await, which was the next poll, so the worker used to wait a whole fetch round trip
per poll. Two turns let it send the request, so the broker prepares the next records while
this batch is processed (measured: 1-2 turns needed)."""
GC_THRESHOLD0 = 50_000
"""Allocations between young-generation collections (CPython's default is 700). A worker
allocates a few objects per record that die young; collecting every 700 allocations scanned
them over and over and cost 10-15% of the records/s (benchmarks.kafka_throughput, CPU time)."""


class Worker:
    """A Vigil worker process; several in one group share the partitions."""

    def __init__(
        self,
        cfg: WorkerConfig,
        pipeline: Pipeline,
        store: CheckpointStore,
        outbox: Outbox | None = None,
        *,
        runtime: RuntimeRules | None = None,
    ) -> None:
        self.cfg = cfg
        self.runtime = runtime or RuntimeRules()
        self.pipeline = pipeline
        self.store = store
        self.tasks: dict[TopicPartition, Task] = {}
        self.processed = 0
        self.dirty: set[TopicPartition] = set()
        self._parked: dict[TopicPartition, Task] = {}
        self.fatal: BaseException | None = None
        self._lock = asyncio.Lock()
        self._last_checkpoint = time.monotonic()
        self._last_topology = 0.0
        self.upstream: frozenset[str] = frozenset()
        """``topic/partition`` of every detect/context partition, fetched in ``start``."""
        self.checkpoint_log = CheckpointLog()
        self._saving: dict[str, float] = {}
        """Watermarks of the source partitions in the checkpoint in flight."""
        kwargs = cfg.client_kwargs()
        self.consumer = group_consumer(cfg)
        self.producer = AIOKafkaProducer(
            linger_ms=cfg.linger_ms, max_batch_size=1 << 20, acks="all", **kwargs
        )
        self.sink = OutputSink(self.producer, cfg.topics, outbox)
        self.checkpoints = BackgroundCheckpoint(store, Committer(self.consumer), self._written)
        self.topology = TopologyBroadcast(cfg.topics.name("topology"), kwargs)
        self.watermarks = WatermarkPublisher(
            self.producer,
            cfg.topics.name("incident_in"),
            self.runtime.idle_source,
            probe=FetchProbe(self.consumer),  # idle time counts only while fetches answer
        )
        # services hooks (connectors/kafka/services.py): after a restore; per incident batch
        self.on_restored: list[Callable[[], None]] = []
        self.runner = TaskRunner(self.sink, pipeline.intake, self.tasks, self.topology)
        self.on_incident_outputs = self.runner.on_incident_outputs
        self.state_sizes = StateSizes()

    def subscribed_topics(self) -> list[str]:
        t = self.cfg.topics
        return [*t.detect_inputs(), *t.context_inputs(), t.name("incident_in")]

    async def start(self) -> None:
        gen0, gen1, gen2 = gc.get_threshold()
        gc.set_threshold(max(GC_THRESHOLD0, gen0), gen1, gen2)
        await self.producer.start()
        await self.topology.start()
        await self.consumer.start()
        self.upstream = await fetch_upstream(self.producer, self.cfg.topics)
        log.info(
            "upstream sources count=%d sources=%s",
            len(self.upstream),
            summarize(sorted(self.upstream)),
        )
        self.consumer.subscribe(self.subscribed_topics(), listener=Rebalance(self))

    async def run(self, stop: asyncio.Event) -> None:
        """Process until ``stop`` is set, then checkpoint and leave the group."""
        while not stop.is_set():
            await self.step()
        await self.close()

    async def step(self) -> int:
        """One poll: process every returned partition batch; checkpoint when due."""
        if self.fatal is not None:
            raise RuntimeError("partition assignment failed") from self.fatal
        self.checkpoints.check()
        batches = await self.consumer.getmany(
            timeout_ms=self.cfg.poll_timeout_ms, max_records=self.cfg.max_records
        )
        if batches:
            for _ in range(FETCHER_YIELDS):  # the next fetch goes out before we process
                await asyncio.sleep(0)
        count = 0
        if time.monotonic() - self._last_topology >= TOPOLOGY_POLL_S:
            self._last_topology = time.monotonic()
            await self.sink.rejected(await self.topology.poll())
        async with self._lock:
            for tp, fetched in batches.items():
                task = self.tasks.get(tp)
                if task is None:  # fetched before our assignment callback finished (or revoked)
                    self._rewind(tp, fetched[0].offset)
                    continue
                records = unseen(fetched, task.position.next_offset)
                if not records:
                    continue
                await self.runner.run(task, records)
                self.dirty.add(tp)
                count += len(records)
                RECORDS_IN.labels(tp.topic).inc(len(records))
            await self.watermarks.publish(source_positions(self.tasks.values()), time.monotonic())
        self.processed += count
        due = time.monotonic() - self._last_checkpoint >= self.cfg.checkpoint_interval_s
        if due and not self.checkpoints.busy:
            async with self._lock:
                self._start_checkpoint()
        return count

    def _rewind(self, tp: TopicPartition, offset: int) -> None:
        with contextlib.suppress(IllegalStateError):  # no longer ours: the new owner restores it
            self.consumer.seek(tp, offset)

    async def checkpoint(self) -> None:
        """Flush outputs, write the state of changed partitions, commit their offsets, and
        wait until that is done (after the background checkpoint in flight, if any).

        Callers hold ``self._lock`` so no batch is half-processed while a snapshot is taken.
        """
        await self.checkpoints.settle()
        self._start_checkpoint()
        await self.checkpoints.settle()

    def _start_checkpoint(self) -> None:
        """Take the snapshots of changed partitions now (encoded: the live state moves on)
        and write them in the background (``BackgroundCheckpoint``); none may be in flight."""
        if self.checkpoints.busy:  # callers wait for it: its outputs must not be detached
            raise RuntimeError("a checkpoint is already in flight")
        started = time.monotonic()
        dirty = [tp for tp in self.dirty if tp in self.tasks]
        snapshots = {self.key(tp): encode_snapshot(self.tasks[tp].snapshot()) for tp in dirty}
        offsets = {
            tp: off for tp in dirty if (off := self.tasks[tp].position.next_offset) is not None
        }
        names = sorted(f"{tp.topic}/{tp.partition}" for tp in dirty)
        self._observe_state(dirty, snapshots)
        self.checkpoints.start(self.sink.detach(), snapshots, offsets)
        self.checkpoint_log.started(names, started)
        sources = source_positions(self.tasks[tp] for tp in dirty)
        self._saving = {src: position.watermark for src, position in sources}
        self.dirty.clear()
        self._last_checkpoint = started

    def _observe_state(self, dirty: list[TopicPartition], snapshots: dict[str, bytes]) -> None:
        """State size per stage and event-time lag, once per checkpoint."""
        for tp in dirty:
            stage = type(self.tasks[tp]).__name__.removesuffix("Task").lower()
            self.state_sizes.record(tp, stage, len(snapshots[self.key(tp)]))
        self.state_sizes.export()
        METRICS.observe_event_time(time.time(), pipeline_watermark(self.tasks.values()))

    def _written(self, keys: list[str]) -> None:
        """After a checkpoint's offsets were committed."""
        self.watermarks.saved(self._saving)  # marks may now tell of what was saved
        self.checkpoint_log.written(keys)

    def key(self, tp: TopicPartition) -> str:
        return f"{self.cfg.group_id}/{tp.topic}/{tp.partition}"

    async def assign(self, assigned: set[TopicPartition]) -> None:
        """Restore each new partition's task from its snapshot, seek to its offset, register
        the detect/context ones with the incident stage, and only then let ``step`` run them.

        The tasks join ``self.tasks`` after registration: ``step`` keeps polling while this
        callback awaits, and a task it processed before its registration mark went out would
        be registered at a moved position (idle, its backlog already read), overriding the
        active marks it had just sent; until its next record, the incident stage would not
        wait for it (a SIGKILL then reordered incidents). Records fetched meanwhile are
        rewound (``step``) and read again once the task is in place."""
        snapshots = await self.store.load(self.key(tp) for tp in assigned)
        fresh: dict[TopicPartition, Task] = {}
        for tp in assigned:
            snap = snapshots.get(self.key(tp))
            parked = self._parked.pop(tp, None)
            if (
                parked is not None
                and snap is not None
                and (snap["offset"] == parked.position.next_offset)
            ):
                fresh[tp] = parked  # still ours: the snapshot was written on revocation
            else:
                fresh[tp] = new_task(
                    self.pipeline, self.cfg.topics, self.runtime, self.upstream, tp, snap
                )
            if snap is not None and snap["offset"] is not None:
                self.consumer.seek(tp, snap["offset"])
        self._parked.clear()
        await register_sources(self.consumer, self.watermarks, fresh)
        self.tasks.update(fresh)
        self.checkpoint_log.assigned()
        ASSIGNED.set(len(self.tasks))
        log.info(
            "assigned count=%d restored=%d keys=%s",
            len(assigned),
            len(snapshots),
            summarize(sorted(snapshots)),
        )
        for hook in self.on_restored:  # services: /readyz turns 200
            hook()

    async def revoke(self, revoked: set[TopicPartition]) -> None:
        async with self._lock:
            await self.checkpoint()
            for tp in revoked:
                task = self.tasks.pop(tp, None)
                if task is not None:
                    self._parked[tp] = task
        self.state_sizes.forget(revoked)
        self.state_sizes.export()
        ASSIGNED.set(len(self.tasks))

    async def close(self) -> None:
        """Final checkpoint, then leave the group (a clean stop re-processes nothing)."""
        async with self._lock:
            await self.checkpoint()
        await self.consumer.stop()
        await self.topology.stop()
        await self.producer.stop()
        await self.store.close()
