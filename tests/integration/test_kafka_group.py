"""Scale-out and crash recovery: workers in one consumer group on a real broker."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
import yaml

from connectors.kafka.app import build_pipeline, open_store
from connectors.kafka.worker import Worker
from tests.integration.kafka_io import (
    Patience,
    create_topics,
    expected_anomalies,
    key_of,
    metric_records,
    produce,
    read_topic,
    wait_for_snapshots,
    worker_config,
)

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


async def test_two_workers_in_one_group_share_the_partitions(
    kafka_bootstrap: str, kafka_names
) -> None:
    topics, group = kafka_names
    cfg = worker_config(kafka_bootstrap, topics, group)
    await create_topics(cfg)
    records = metric_records(16, 100, seed=11)
    expected = expected_anomalies(records)
    await produce(
        kafka_bootstrap, topics.name("metrics"), [(key_of(r), orjson.dumps(r)) for r in records]
    )
    workers = [Worker(cfg, build_pipeline(cfg), await open_store(cfg)) for _ in range(2)]
    for w in workers:
        await w.start()
    patience = Patience(30.0)  # 30 s without a record processed, not in total
    while (done := sum(w.processed for w in workers)) < len(records) and not patience.expired(done):
        await asyncio.gather(*(w.step() for w in workers))
    owned = [{tp for tp in w.tasks if tp.topic == topics.name("metrics")} for w in workers]
    anomalies = await read_topic(
        kafka_bootstrap,
        topics.name("anomalies"),
        lambda got: {a["id"] for a in got} >= set(expected),
    )
    for w in workers:
        await w.close()

    assert owned[0], "each worker should own some metrics partitions"
    assert owned[1]
    assert not owned[0] & owned[1]
    assert len(owned[0] | owned[1]) == cfg.partitions
    assert {a["id"]: a for a in anomalies} == expected


def _spawn_worker(config_path: Path, log_path: Path) -> subprocess.Popen[bytes]:
    code = "import sys; from connectors.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-c", code, "worker", "--config", str(config_path)],
            cwd=log_path.parent,  # its receivers' files (vigil-delivery/) there, not in the repo
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def test_sigkilled_worker_state_is_recovered_and_anomalies_match_an_uninterrupted_run(
    kafka_bootstrap: str, kafka_names, tmp_path: Path
) -> None:
    topics, group = kafka_names
    cfg = worker_config(kafka_bootstrap, topics, group)
    await create_topics(cfg)
    config_path = tmp_path / "worker.yaml"
    group_timeouts = {
        "session_timeout_ms": 6000,
        "heartbeat_interval_ms": 1000,
        "rebalance_timeout_ms": 6000,
    }
    config_path.write_text(
        yaml.safe_dump(
            {
                "bootstrap_servers": kafka_bootstrap,
                "group_id": group,
                "topics": {"prefix": topics.prefix},
                "checkpoint_interval_s": 0.5,
                **group_timeouts,
                "metrics_port": None,
            }
        )
    )
    records = metric_records(16, 400, seed=23, spikes=12, spikes_from=200)
    expected = expected_anomalies(records)
    items = [(key_of(r), orjson.dumps(r)) for r in records]
    logs = [tmp_path / f"worker{i}.log" for i in range(2)]
    spawned = time.monotonic()
    workers = [_spawn_worker(config_path, log) for log in logs]
    try:
        await _wait_for_assignments(logs)
        joined_s = time.monotonic() - spawned  # start, join and a rebalance, on this machine
        resume = asyncio.Event()

        async def feed() -> None:  # the rest of the input waits for the checkpoints: on a
            cut = len(items) // 4  # loaded machine the workers took longer than the whole feed
            await produce(kafka_bootstrap, topics.name("metrics"), items[:cut], rate_per_s=400)
            await resume.wait()
            await produce(kafka_bootstrap, topics.name("metrics"), items[cut:], rate_per_s=400)

        feeding = asyncio.create_task(feed())
        # both workers have checkpointed metrics partitions, and input is still arriving
        await wait_for_snapshots(kafka_bootstrap, topics, topics.name("metrics") + "/", 4)
        resume.set()
        await asyncio.sleep(0)
        assert not feeding.done()
        os.kill(workers[0].pid, signal.SIGKILL)
        killed_at = time.monotonic()
        takeover = await _wait_for_takeover(logs[1], timeout_s=40)
        recovered_s = time.monotonic() - killed_at
        await feeding
        anomalies = await read_topic(
            kafka_bootstrap,
            topics.name("anomalies"),
            lambda got: {a["id"] for a in got} >= set(expected),
            timeout_s=30,
        )
    finally:
        for w in workers:
            if w.poll() is None:
                os.kill(w.pid, signal.SIGTERM)
                w.wait(timeout=20)

    by_id = {a["id"]: a for a in anomalies}  # duplicates (re-processing) share an id
    assert by_id == expected, (tmp_path / "worker1.log").read_text()[-3000:]
    # the group's own bound: the broker drops the dead member after the session timeout, the
    # survivor hears of the rebalance on its next heartbeat, the join ends within the rebalance
    # timeout; then it restores, which takes no longer than the start it made in this run
    bound_s = sum(group_timeouts.values()) / 1000 + joined_s
    print(f"recovered in {recovered_s:.1f} s, bound {bound_s:.1f} s (joined in {joined_s:.1f} s)")
    assert recovered_s <= bound_s, (recovered_s, bound_s)
    assert takeover[1] >= 4  # every metrics partition's state came back, the dead worker's too


async def _wait_for_assignments(log_paths: list[Path], stall_s: float = 40.0) -> None:
    """Until every worker logged its first assignment (``stall_s`` without progress: fail)."""
    patience = Patience(stall_s)
    while True:
        texts = [p.read_text() for p in log_paths]
        if all("assigned count=" in text for text in texts):
            return
        assert not patience.expired(*map(len, texts)), "\n".join(t[-1500:] for t in texts)
        await asyncio.sleep(0.2)


async def _wait_for_takeover(log_path: Path, timeout_s: float) -> tuple[int, int]:
    """(partitions, restored snapshots) of the survivor's assignment of every partition."""
    everything = 7 * 4  # 4 detect + 2 context input topics and the repartition topic
    patience = Patience(timeout_s)  # timeout_s without a new line in its log, not in total
    while not patience.expired(len(text := log_path.read_text())):
        found = re.findall(r"assigned count=(\d+) restored=(\d+)", text)
        if found and int(found[-1][0]) == everything:
            return int(found[-1][0]), int(found[-1][1])
        await asyncio.sleep(0.2)
    raise AssertionError(f"no takeover after {timeout_s}s without progress:\n{text[-3000:]}")
