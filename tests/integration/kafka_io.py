"""Shared test code for the Kafka suite: producing inputs, reading outputs, the expected run."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from connectors.kafka.admin import ensure_topics
from connectors.kafka.config import Topics, WorkerConfig
from engine.events import InputKind, MetricPoint, Rejected, series_key
from engine.ingest.decode import Origin, decode_object
from engine.pipeline import Pipeline, is_internal
from engine.rules import RuleSet

T0 = 1_764_115_200.0
STALL_S = 60.0
"""Waits for a worker's outputs fail after this long without progress (``Patience``)."""
SETTLE_S = 4.0
"""idle_source (2 s in these tests) + a watermark interval + a poll: the last resolves are out."""


def worker_progress() -> float:
    """Records read and written so far by the workers running in this process (their shared
    ``connectors.kafka.telemetry.METRICS``): it grows while an in-process worker does
    anything, and stays flat when none runs or it is stuck."""
    from connectors.kafka.telemetry import METRICS

    total = 0.0
    for family in METRICS.registry.collect():
        if family.name in ("vigil_records_in", "vigil_records_out"):
            total += sum(s.value for s in family.samples if s.name.endswith("_total"))
    return total


class Patience:
    """A wait that gives up after ``stall_s`` *without progress*, not after a fixed total.

    On a loaded machine every step of a run stretches (a scheduler can eat any fixed budget);
    a stuck run stops moving. Progress is any change of what the wait reads (``marks``) or of
    ``worker_progress()``.
    """

    def __init__(self, stall_s: float) -> None:
        self.stall_s = stall_s
        self._seen: tuple[object, ...] | None = None
        self._at = time.monotonic()

    def expired(self, *marks: object) -> bool:
        seen = (worker_progress(), *marks)
        if seen != self._seen:
            self._seen, self._at = seen, time.monotonic()
        return time.monotonic() - self._at > self.stall_s


def worker_config(bootstrap: str, topics: Topics, group: str, **overrides: Any) -> WorkerConfig:
    """Test tuning: short session timeouts so a killed member is noticed within seconds."""
    base = WorkerConfig(
        bootstrap_servers=bootstrap,
        group_id=group,
        topics=topics,
        checkpoint_store="kafka",
        checkpoint_interval_s=0.5,
        session_timeout_ms=6_000,
        heartbeat_interval_ms=1_000,
        rebalance_timeout_ms=6_000,
        metrics_port=None,
        partitions=4,
    )
    return base.with_overrides(**overrides)


def metric_records(
    n_series: int, n_points: int, *, seed: int, spikes: int = 3, spikes_from: int = 40
) -> list[dict[str, Any]]:
    """Single-point metric records, one per minute per series, with a few injected spikes."""
    rng = random.Random(seed)
    spike_at = {
        (rng.randrange(n_series), rng.randrange(spikes_from, n_points)) for _ in range(spikes)
    }
    out = []
    for i in range(n_points):
        for s in range(n_series):
            value = 10.0 + rng.gauss(0.0, 1.0) + (60.0 if (s, i) in spike_at else 0.0)
            labels = {"service": f"svc-{s % 7}", "host": f"node-{s}", "cluster": f"c{s % 2}"}
            out.append({"ts": T0 + 60.0 * i, "name": "latency", "value": value, "labels": labels})
    return out


def key_of(record: dict[str, Any]) -> bytes:
    return series_key(record["name"], record["labels"]).encode()


def expected_anomalies(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What the embedded pipeline finds on the same records (one state, no Kafka), by id."""
    pipeline = Pipeline.from_rules(RuleSet())
    events = [e for r in records for e in decode_object(InputKind.METRICS, r, Origin("metrics"))]
    points = [e for e in events if isinstance(e, MetricPoint)]
    _, out = pipeline.detect.process(pipeline.detect.initial_state(), points, now=T0)
    # holds and telemetry marks are for the incident stage, never on the anomalies topic
    return {a.id: orjson.loads(orjson.dumps(a.to_wire())) for a in out if not is_internal(a)}


def expected_anomaly_ids(records: list[dict[str, Any]]) -> set[str]:
    return set(expected_anomalies(records))


async def create_topics(cfg: WorkerConfig) -> None:
    await ensure_topics(cfg.topics, cfg.partitions, cfg.client_kwargs())


async def produce(
    bootstrap: str, topic: str, items: list[tuple[bytes | None, bytes]], rate_per_s: float = 0
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        started = time.monotonic()
        for i, (key, value) in enumerate(items):
            if rate_per_s and i % 100 == 0:
                await asyncio.sleep(max(0.0, started + i / rate_per_s - time.monotonic()))
            await producer.send(topic, value, key=key)
        await producer.flush()
    finally:
        await producer.stop()


async def read_topic(
    bootstrap: str,
    topic: str,
    until: Callable[[list[dict[str, Any]]], bool],
    timeout_s: float = 30.0,
) -> list[dict[str, Any]]:
    """Every record of ``topic`` from the beginning (JSON values), until ``until(records)`` or
    ``timeout_s`` without a new record or any progress of an in-process worker."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    out: list[dict[str, Any]] = []
    try:
        await consumer.topics()  # refreshes metadata
        parts = consumer.partitions_for_topic(topic) or set()
        consumer.assign([TopicPartition(topic, p) for p in parts])
        patience = Patience(timeout_s)
        while not until(out) and not patience.expired(len(out)):
            batches = await consumer.getmany(timeout_ms=200)
            out.extend(orjson.loads(r.value) for rs in batches.values() for r in rs)
    finally:
        await consumer.stop()
    return out


def is_rejected(event: object) -> bool:
    return isinstance(event, Rejected)


async def wait_for_snapshots(
    bootstrap: str, topics: Topics, source: str, count: int, stall_s: float = 30.0
) -> None:
    """Until the state topic holds snapshots of ``count`` partitions of topic ``source`` (or
    ``stall_s`` passed without a new one or any progress of an in-process worker)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    keys: set[bytes] = set()
    try:
        consumer.assign([TopicPartition(topics.name("state"), 0)])
        patience = Patience(stall_s)
        while len(keys) < count and not patience.expired(len(keys)):
            batches = await consumer.getmany(timeout_ms=200)
            keys |= {
                r.key for rs in batches.values() for r in rs if r.key and source.encode() in r.key
            }
    finally:
        await consumer.stop()
    assert len(keys) >= count, f"only {len(keys)} snapshots of {source}, none new in {stall_s}s"


async def read_incidents(
    bootstrap: str, topic: str, anomalies: set[str], stall_s: float = STALL_S
) -> list[dict[str, Any]]:
    """The incident records once every anomaly is a member of one and nothing new came for
    ``SETTLE_S`` (every test using it sets ``confirm_s: 0``, so every anomaly joins one).

    The incident stage waits for the slowest partition and then for ``idle_source``; a worker
    can lag well behind its input, and a fixed wait (a sleep, then reading for a few seconds)
    read a partial set of incidents on a loaded machine. Fails after ``stall_s`` without a new
    record or progress of an in-process worker."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    got: list[dict[str, Any]] = []
    try:
        await consumer.topics()  # refreshes metadata
        parts = consumer.partitions_for_topic(topic) or set()
        consumer.assign([TopicPartition(topic, p) for p in parts])
        last_new, patience = time.monotonic(), Patience(stall_s)
        while True:
            batches = await consumer.getmany(timeout_ms=200)
            fresh = [orjson.loads(r.value) for rs in batches.values() for r in rs]
            if fresh:
                got += fresh
                last_new = time.monotonic()
            members = {m for record in got for m in record["alerts"]}
            if members >= anomalies and time.monotonic() - last_new >= SETTLE_S:
                return got
            if patience.expired(len(got)):
                missing = sorted(anomalies - members)
                raise TimeoutError(f"no progress for {stall_s}s; not in an incident: {missing}")
    finally:
        await consumer.stop()
