"""A worker's membership of its consumer group: the tasks of assigned partitions, the upstream
sources the incident stage waits for, the rebalance listener and the offset committer.

``connectors.kafka.worker`` runs the tasks; this module builds and announces them.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError

from connectors.checkpoint import Snapshot
from connectors.kafka.config import Topics, WorkerConfig
from connectors.kafka.fetched import raw_value
from connectors.kafka.tasks import (
    ContextTask,
    DetectTask,
    IncidentTask,
    Task,
    intake_from,
    position_from,
)
from connectors.kafka.watermarks import WatermarkPublisher
from connectors.logformat import summarize
from engine.pipeline import Pipeline
from engine.rules.runtime import RuntimeRules

log = logging.getLogger("vigil.worker")

FETCH_MAX_BYTES = 50 * 1024 * 1024
PARTITION_FETCH_BYTES = 8 * 1024 * 1024


def group_consumer(cfg: WorkerConfig) -> AIOKafkaConsumer:
    """The worker's consumer: manual commits, large fetches, raw record values."""
    return AIOKafkaConsumer(
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
        **cfg.client_kwargs(),
    )


class Member(Protocol):
    """What the rebalance listener calls on (``connectors.kafka.worker.Worker``)."""

    fatal: BaseException | None

    async def assign(self, assigned: set[TopicPartition]) -> None: ...

    async def revoke(self, revoked: set[TopicPartition]) -> None: ...


def new_task(
    pipeline: Pipeline,
    topics: Topics,
    runtime: RuntimeRules,
    upstream: frozenset[str],
    tp: TopicPartition,
    snap: Snapshot | None,
) -> Task:
    """The task of an assigned partition, restored from its snapshot (any version) if any."""
    position = position_from(snap)
    state = snap["state"] if snap is not None else None
    intake = intake_from(snap, tp.topic, tp.partition, pipeline.intake)
    if tp.topic in topics.detect_inputs():
        stage = pipeline.detect
        restored = stage.restore_state(state) if state else stage.initial_state()
        kind, encoding = topics.detect_inputs()[tp.topic], topics.encoding_of(tp.topic)
        return DetectTask(
            stage, kind, tp.topic, tp.partition, restored, position, intake, encoding
        )
    if tp.topic in topics.context_inputs():
        kind = topics.context_inputs()[tp.topic]
        return ContextTask(kind, tp.topic, tp.partition, position, intake)
    incident = pipeline.incident
    held = incident.restore_state(state) if state else incident.initial_state()
    hold_s = runtime.incident_hold_s
    return IncidentTask(
        incident, tp.topic, tp.partition, held, position, hold_s, upstream
    )


async def fetch_upstream(producer: AIOKafkaProducer, topics: Topics) -> frozenset[str]:
    """``topic/partition`` of every detect/context partition, asked of the broker (the
    producer waits until each topic's metadata lists it; a topic the broker does not know
    raises). Not read from the consumer's cached metadata at task creation: a topic that
    answered with an error there was silently left out, and an incident task then moved
    on without waiting for its partitions."""
    names_of = [*topics.detect_inputs(), *topics.context_inputs()]
    names: set[str] = set()
    for topic in names_of:
        partitions = await producer.partitions_for(topic)
        if not partitions:
            raise RuntimeError(f"topic {topic} has no partitions in the cluster metadata")
        names.update(f"{topic}/{p}" for p in partitions)
    return frozenset(names)


async def register_sources(
    consumer: AIOKafkaConsumer, watermarks: WatermarkPublisher, assigned: dict[TopicPartition, Task]
) -> None:
    """Announce each newly assigned detect/context partition to the incident stage: active
    (holding it) when records wait past its restored offset or the end is unknown, else
    idle."""
    fresh = [tp for tp, task in assigned.items() if isinstance(task, DetectTask | ContextTask)]
    if not fresh:
        return
    try:
        ends = await consumer.end_offsets(fresh)
    except Exception as exc:  # unknown: hold until the idle timer says so
        log.warning("end offsets unavailable reason=%s", exc)
        ends = {}
    registered = []
    for tp in fresh:
        position = assigned[tp].position
        waiting = tp not in ends or ends[tp] > (position.next_offset or 0)
        src = f"{tp.topic}/{tp.partition}"
        await watermarks.register(src, position, waiting, time.monotonic())
        registered.append(f"{src}:{'active' if waiting else 'idle'}@{position.watermark}")
    log.info("registered sources=%s", summarize(sorted(registered)))


def unseen(records: list[Any], next_offset: int | None) -> list[Any]:
    """Drop records the task's state already holds (fetched from a pre-restore position)."""
    if next_offset is None or records[0].offset >= next_offset:
        return records
    return [r for r in records if r.offset >= next_offset]


class Committer:
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


class Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]  # untyped base class
    def __init__(self, worker: Member) -> None:
        self.worker = worker

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.worker.revoke(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        try:
            await self.worker.assign(set(assigned))
        except Exception as exc:  # aiokafka would only log it; stop the worker
            self.worker.fatal = exc
