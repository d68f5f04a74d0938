"""Chaos: SIGKILL one of two workers mid-stream; the survivor takes over from the checkpoints
and the outputs equal an undisturbed run's: the same anomaly ids, the same incident ids, each
incident with the same members.

Incident grouping depends on the order anomalies reach the incident stage, and that order
differs after a crash (the re-processed partition re-publishes its anomalies, interleaved
differently with the others). It is the incident stage's reorder slot, released by the
upstream partitions' watermarks (``connectors.kafka.watermarks``), that makes the ids agree;
a partition registers on assignment, so one with a backlog holds the stage before it reports.
``runtime.idle_source`` is short so the tail of the input is released once it stops.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
from pathlib import Path

import orjson
import pytest
import yaml

from tests.integration.kafka_io import (
    STALL_S,
    Patience,
    create_topics,
    key_of,
    metric_records,
    produce,
    read_incidents,
    read_topic,
    worker_config,
)
from tests.integration.test_chaos import _names, _worker_run
from tests.integration.test_kafka_group import _spawn_worker

pytestmark = pytest.mark.integration

RULES = "correlation:\n  confirm_s: 0\nruntime:\n  idle_source: 2s\n"
EVERYTHING = 7 * 4  # 4 detect + 2 context input topics and the repartition topic, 4 partitions


async def _wait_for_progress(logs: list[Path], stall_s: float = STALL_S) -> None:
    """Until each worker holds a share of the partitions (not all of them) and has written a
    checkpoint of a metrics partition since that assignment: both are mid-stream with detector
    state of their own. Fails after ``stall_s`` without a new line in their logs."""
    patience = Patience(stall_s)
    while True:
        texts = [path.read_text() for path in logs]
        if all(_progressed(text) for text in texts):
            return
        if patience.expired(sum(map(len, texts))):
            raise AssertionError("workers made no progress: " + texts[0][-3000:])
        await asyncio.sleep(0.1)


def _progressed(text: str) -> bool:
    assigned = list(re.finditer(r"assigned count=(\d+)", text))
    if not assigned or not 0 < int(assigned[-1].group(1)) < EVERYTHING:
        return False
    after = text[assigned[-1].end() :]
    return re.search(r"first checkpoint since assignment .*metrics/", after) is not None


def _worker_yaml(path: Path, bootstrap: str, prefix: str, group: str, rules: Path) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "bootstrap_servers": bootstrap,
                "group_id": group,
                "topics": {"prefix": prefix},
                "rules_path": str(rules),
                "checkpoint_interval_s": 0.5,
                "session_timeout_ms": 6000,
                "heartbeat_interval_ms": 1000,
                "rebalance_timeout_ms": 6000,
                "metrics_port": None,
            }
        )
    )
    return path


def _members(incidents: list[dict[str, object]]) -> dict[str, set[str]]:
    gathered: dict[str, set[str]] = {}
    for record in incidents:
        gathered.setdefault(str(record["id"]), set()).update(record["alerts"])  # type: ignore[arg-type]  # a list of ids
    return gathered


async def test_sigkill_of_a_worker_mid_stream_gives_the_same_anomalies_and_incidents(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    records = metric_records(16, 300, seed=23, spikes=10, spikes_from=150)
    calm = await _worker_run(kafka_bootstrap, _names(), rules, records, [2000.0])
    topics, group = _names()
    await create_topics(worker_config(kafka_bootstrap, topics, group, rules_path=str(rules)))
    config = _worker_yaml(tmp_path / "worker.yaml", kafka_bootstrap, topics.prefix, group, rules)
    workers = [_spawn_worker(config, tmp_path / f"worker{i}.log") for i in range(2)]
    try:
        items = [(key_of(r), orjson.dumps(r)) for r in records]
        resume = asyncio.Event()

        async def feed() -> None:  # the rest of the input waits for both workers: on a loaded
            cut = len(items) // 4  # machine they took longer to start than the whole feed
            await produce(kafka_bootstrap, topics.name("metrics"), items[:cut], rate_per_s=250)
            await resume.wait()
            await produce(kafka_bootstrap, topics.name("metrics"), items[cut:], rate_per_s=250)

        feeding = asyncio.create_task(feed())
        await _wait_for_progress([tmp_path / "worker0.log", tmp_path / "worker1.log"])
        resume.set()
        await asyncio.sleep(0)
        assert not feeding.done(), "the kill must land mid-stream"
        os.kill(workers[0].pid, signal.SIGKILL)
        await feeding
        expected = set(calm["anomalies"])
        anomalies = await read_topic(
            kafka_bootstrap,
            topics.name("anomalies"),
            lambda got: {a["id"] for a in got} >= expected,
            timeout_s=STALL_S,
        )
        ids = {a["id"] for a in anomalies}  # released once every source has gone idle
        incidents = await read_incidents(kafka_bootstrap, topics.name("incidents"), ids)
    finally:
        for w in workers:
            if w.poll() is None:
                os.kill(w.pid, signal.SIGTERM)
                w.wait(timeout=20)
    logs = "".join((tmp_path / f"worker{i}.log").read_text() for i in range(2))
    late = [line for line in logs.splitlines() if "late events" in line]
    assert not late, late  # the reorder slot released nothing before every source had passed it
    assert calm["incidents"], "the input must open incidents"
    assert {a["id"] for a in anomalies} == expected
    assert _members(incidents) == calm["incidents"]
