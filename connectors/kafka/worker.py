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
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError

from connectors.checkpoint import CheckpointStore, Snapshot, encode_snapshot
from connectors.kafka.broadcast import TopologyBroadcast
from connectors.kafka.commit import BackgroundCheckpoint
from connectors.kafka.config import WorkerConfig
from connectors.kafka.fetched import install as install_raw_records
from connectors.kafka.fetched import raw_value
from connectors.kafka.sink import Outbox, OutputSink
from connectors.kafka.tasks import (
    ContextTask,
    DetectTask,
    IncidentTask,
    Task,
    event_time_from,
    pipeline_watermark,
    position_from,
    source_positions,
)
from connectors.kafka.telemetry import (
    ASSIGNED,
    CHECKPOINT_SECONDS,
    CHECKPOINTS,
    METRICS,
    RECORDS_IN,
    REJECTED,
    STAGE_LATENCY,
    StateSizes,
)
from connectors.kafka.watermarks import FetchProbe, WatermarkPublisher
from connectors.logformat import summarize
from engine.events import Rejected
from engine.ingest.watermark import WatermarkTracker
from engine.pipeline import Pipeline
from engine.rules.runtime import RuntimeRules

log = logging.getLogger("vigil.worker")
install_raw_records()  # the worker's consumer reads aiokafka's batch records as they are

FETCH_MAX_BYTES = 50 * 1024 * 1024
PARTITION_FETCH_BYTES = 8 * 1024 * 1024
TOPOLOGY_POLL_S = 0.2
FETCHER_YIELDS = 2
"""Event-loop turns given to aiokafka's fetcher after a poll. It sends the next fetch request
to a broker only once every partition fetched from it was drained, and only when it runs: on
the next await, which was the next poll, so the worker used to wait a whole fetch round trip
per poll. Two turns let it send the request, so the broker prepares the next records while
this batch is processed (measured: 1-2 turns needed)."""
DETECT_CHUNK = 2_000
"""Records a detect task processes between two event-loop turns (~25 ms of work). A poll
returns up to ``max_records`` (20,000: ~0.25 s of work); without the turns, an anomaly found
early in such a batch waited for the whole batch before the producer could send it."""
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
        self.tracker = WatermarkTracker.from_rules(self.runtime)
        """Event time of every detect/context partition (``connectors.kafka.tasks``)."""
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
        self._checkpointed_since_assign = False
        self._assignments = 0
        self._covers: tuple[int, list[str], float] = (0, [], 0.0)
        """The checkpoint in flight: assignment count, partitions, start (monotonic s)."""
        kwargs = cfg.client_kwargs()
        self.consumer = AIOKafkaConsumer(
            group_id=cfg.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=cfg.session_timeout_ms,
            heartbeat_interval_ms=cfg.heartbeat_interval_ms,
            rebalance_timeout_ms=cfg.rebalance_timeout_ms,
            fetch_max_bytes=FETCH_MAX_BYTES,
            max_partition_fetch_bytes=PARTITION_FETCH_BYTES,
            fetch_max_wait_ms=cfg.fetch_max_wait_ms,
            value_deserializer=raw_value,
            **kwargs,
        )
        self.producer = AIOKafkaProducer(
            linger_ms=cfg.linger_ms, max_batch_size=1 << 20, acks="all", **kwargs
        )
        self.sink = OutputSink(self.producer, cfg.topics, outbox)
        self.checkpoints = BackgroundCheckpoint(store, _Committer(self.consumer), self._written)
        self.topology = TopologyBroadcast(cfg.topics.name("topology"), kwargs)
        self.watermarks = WatermarkPublisher(
            self.producer,
            cfg.topics.name("incident_in"),
            self.runtime.idle_source,
            probe=FetchProbe(self.consumer),  # idle time counts only while fetches answer
        )
        # services hooks (connectors/kafka/services.py): after a restore; per incident batch
        self.on_restored: list[Callable[[], None]] = []
        self.state_sizes = StateSizes()
        self.on_incident_outputs: list[Callable[[list[Any]], None]] = []

    def subscribed_topics(self) -> list[str]:
        t = self.cfg.topics
        return [*t.detect_inputs(), *t.context_inputs(), t.name("incident_in")]

    async def start(self) -> None:
        gen0, gen1, gen2 = gc.get_threshold()
        gc.set_threshold(max(GC_THRESHOLD0, gen0), gen1, gen2)
        await self.producer.start()
        await self.topology.start()
        await self.consumer.start()
        self.upstream = await self._fetch_upstream()
        log.info(
            "upstream sources count=%d sources=%s",
            len(self.upstream),
            summarize(sorted(self.upstream)),
        )
        self.consumer.subscribe(self.subscribed_topics(), listener=_Rebalance(self))

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
                records = _unseen(fetched, task.position.next_offset)
                if not records:
                    continue
                await self._run(task, records)
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

    async def _run(self, task: Task, records: list[Any]) -> None:
        if isinstance(task, DetectTask):
            counted = _late_counts(task)
            for start in range(0, len(records), DETECT_CHUNK):
                if start:  # the producer sends what the previous chunk found meanwhile
                    await asyncio.sleep(0)
                chunk = records[start : start + DETECT_CHUNK]
                with STAGE_LATENCY["detect"].time():
                    anomalies, rejected = task.process(chunk, clock=time.time())
                await self.sink.anomalies(anomalies)
                await self._reject(task, rejected)
            _count_late(task, counted)
            if task.state.slots["models"].models:  # model-performance status gauges
                METRICS.models.observe(task.state.slots["models"])
            return
        if isinstance(task, ContextTask):
            counted = _late_counts(task)
            with STAGE_LATENCY["context"].time():
                events, rejected = task.process(records, clock=time.time())
            _count_late(task, counted)
            await self.sink.context(events)  # type: ignore[arg-type]  # alerts/changes only
        else:
            with STAGE_LATENCY["incident"].time():
                outs, rejected = task.process(records, self.topology.updates)
            await self.sink.incident_outputs(outs)
            for hook in self.on_incident_outputs:  # services: incident view, console, metrics
                hook(outs)
        await self._reject(task, rejected)

    async def _reject(self, task: Task, rejected: list[Rejected]) -> None:
        if rejected:
            REJECTED.labels(task.topic).inc(len(rejected))
            await self.sink.rejected(rejected)

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
        self._covers = (self._assignments, names, started)
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
        assignments, names, started = self._covers
        if keys and assignments == self._assignments and not self._checkpointed_since_assign:
            self._checkpointed_since_assign = True
            log.info("first checkpoint since assignment snapshots=%d of=%s", len(names), names)
        CHECKPOINTS.inc()
        CHECKPOINT_SECONDS.observe(time.monotonic() - started)

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
                fresh[tp] = self._new_task(tp, snap)
            if snap is not None and snap["offset"] is not None:
                self.consumer.seek(tp, snap["offset"])
        self._parked.clear()
        await self._register_sources(fresh)
        self.tasks.update(fresh)
        self._checkpointed_since_assign = False
        self._assignments += 1
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

    def _new_task(self, tp: TopicPartition, snap: Snapshot | None) -> Task:
        topics, position = self.cfg.topics, position_from(snap)
        state = snap["state"] if snap is not None else None
        event_time = event_time_from(snap, tp.topic, tp.partition, self.tracker)
        if tp.topic in topics.detect_inputs():
            stage = self.pipeline.detect
            restored = stage.restore_state(state) if state else stage.initial_state()
            kind, encoding = topics.detect_inputs()[tp.topic], topics.encoding_of(tp.topic)
            return DetectTask(
                stage, kind, tp.topic, tp.partition, restored, position, event_time, encoding
            )
        if tp.topic in topics.context_inputs():
            kind = topics.context_inputs()[tp.topic]
            return ContextTask(kind, tp.topic, tp.partition, position, event_time)
        incident = self.pipeline.incident
        restored = incident.restore_state(state) if state else incident.initial_state()
        hold_s = self.runtime.incident_hold_s
        return IncidentTask(
            incident, tp.topic, tp.partition, restored, position, hold_s, self.upstream
        )

    async def _fetch_upstream(self) -> frozenset[str]:
        """``topic/partition`` of every detect/context partition, asked of the broker (the
        producer waits until each topic's metadata lists it; a topic the broker does not know
        raises). Not read from the consumer's cached metadata at task creation: a topic that
        answered with an error there was silently left out, and an incident task then moved
        on without waiting for its partitions."""
        topics = [*self.cfg.topics.detect_inputs(), *self.cfg.topics.context_inputs()]
        names: set[str] = set()
        for topic in topics:
            partitions = await self.producer.partitions_for(topic)
            if not partitions:
                raise RuntimeError(f"topic {topic} has no partitions in the cluster metadata")
            names.update(f"{topic}/{p}" for p in partitions)
        return frozenset(names)

    async def _register_sources(self, assigned: dict[TopicPartition, Task]) -> None:
        """Announce each newly assigned detect/context partition to the incident stage: active
        (holding it) when records wait past its restored offset or the end is unknown, else
        idle."""
        fresh = [tp for tp, task in assigned.items() if isinstance(task, DetectTask | ContextTask)]
        if not fresh:
            return
        try:
            ends = await self.consumer.end_offsets(fresh)
        except Exception as exc:  # unknown: hold until the idle timer says so
            log.warning("end offsets unavailable reason=%s", exc)
            ends = {}
        registered = []
        for tp in fresh:
            position = assigned[tp].position
            waiting = tp not in ends or ends[tp] > (position.next_offset or 0)
            src = f"{tp.topic}/{tp.partition}"
            await self.watermarks.register(src, position, waiting, time.monotonic())
            registered.append(f"{src}:{'active' if waiting else 'idle'}@{position.watermark}")
        log.info("registered sources=%s", summarize(sorted(registered)))

    async def close(self) -> None:
        """Final checkpoint, then leave the group (a clean stop re-processes nothing)."""
        async with self._lock:
            await self.checkpoint()
        await self.consumer.stop()
        await self.topology.stop()
        await self.producer.stop()
        await self.store.close()


def _unseen(records: list[Any], next_offset: int | None) -> list[Any]:
    """Drop records the task's state already holds (fetched from a pre-restore position)."""
    if next_offset is None or records[0].offset >= next_offset:
        return records
    return [r for r in records if r.offset >= next_offset]


class _Committer:
    """Commits offsets; a commit refused because the group is rebalancing is only logged.

    The snapshots were written already and hold the offsets, so the next owner loses nothing.
    """

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self.consumer = consumer

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        try:
            await self.consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            log.warning("offset commit skipped reason=%s", exc)


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]  # untyped base class
    def __init__(self, worker: Worker) -> None:
        self.worker = worker

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.worker.revoke(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        try:
            await self.worker.assign(set(assigned))
        except Exception as exc:  # aiokafka would only log it; stop the worker
            self.worker.fatal = exc


def _late_counts(task: DetectTask | ContextTask) -> tuple[int, int]:
    counts = task.event_time.marks.counts
    return counts.get("late", 0), counts.get("too_late", 0)


def _count_late(task: DetectTask | ContextTask, before: tuple[int, int]) -> None:
    """``vigil_late_events_total``: what the task's tracker counted since ``before``."""
    for lateness, was, now in zip(("late", "too_late"), before, _late_counts(task), strict=True):
        if now > was:
            METRICS.late_events.labels(lateness=lateness).inc(now - was)
