"""A Kafka worker with one host's clock 15 min ahead gives the outputs of the run without skew.

The fast host writes a series into every partition of the metrics topic (after the other
hosts' points of each minute), so each partition carries it. Event time per partition is the
watermark tracker's robust source time (``connectors.kafka.tasks``): the fast host neither
moves a partition's published watermark nor, through it, the incident stage's event time, so
the other hosts' anomalies reach the incident stage in time and are grouped as without skew.
Before, a detect task's watermark was its partition's newest event time: every partition ran
15 min ahead and the incident stage released the others' anomalies before they arrived (this
test then failed on "late events"). The input is fed at 300 records/s so the worker reads it
in many batches, as a live stream: anomalies and watermarks interleave on the repartition topic.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka.partitioner import DefaultPartitioner

from connectors.kafka.app import serve
from connectors.kafka.config import Topics
from engine.events import series_key
from tests.integration.kafka_io import (
    T0,
    create_topics,
    expected_anomalies,
    key_of,
    metric_records,
    produce,
    read_incidents,
    read_topic,
    worker_config,
)

pytestmark = pytest.mark.integration

RULES = "correlation:\n  confirm_s: 0\nruntime:\n  idle_source: 2s\n"
FAST_HOST = "node-fast"
PARTITIONS = 4
SERIES, MINUTES = 12, 150


def _fast_names() -> list[str]:
    """Metric names of the fast host whose series keys cover every partition."""
    partitions = list(range(PARTITIONS))
    names, covered = [], set()
    for i in range(100):
        name = f"cpu_{i}"
        part = DefaultPartitioner()(
            series_key(name, _fast_labels()).encode(), partitions, partitions
        )
        if part not in covered:
            covered.add(part)
            names.append(name)
        if len(covered) == PARTITIONS:
            return names
    raise AssertionError("no names cover every partition")


def _fast_labels() -> dict[str, str]:
    return {"service": "svc-fast", "host": FAST_HOST, "cluster": "c0"}


def _records(skew_s: float) -> list[dict[str, Any]]:
    """The shared input: each minute, the other hosts' points, then the fast host's."""
    others = metric_records(SERIES, MINUTES, seed=31, spikes=8, spikes_from=40)
    rng, names = random.Random(7), _fast_names()
    out = []
    for minute in range(MINUTES):
        out += others[minute * SERIES : (minute + 1) * SERIES]
        ts = T0 + 60.0 * minute + skew_s
        out += [
            {"ts": ts, "name": n, "value": 50.0 + rng.gauss(0.0, 1.0), "labels": _fast_labels()}
            for n in names
        ]
    return out


async def _run(bootstrap: str, records: list[dict[str, Any]], rules: Path) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    topics, group = Topics(prefix=f"t{tag}."), f"g{tag}"
    cfg = worker_config(bootstrap, topics, group, rules_path=str(rules))
    await create_topics(cfg)
    items = [(key_of(r), orjson.dumps(r)) for r in records]
    stop = asyncio.Event()
    worker = asyncio.create_task(serve(cfg, stop))
    await produce(bootstrap, topics.name("metrics"), items, rate_per_s=300)
    expected = set(expected_anomalies(records))
    anomalies = await read_topic(
        bootstrap, topics.name("anomalies"), lambda got: {a["id"] for a in got} >= expected
    )
    ids = {a["id"] for a in anomalies}  # every source goes idle: the stage releases the tail
    incidents = await read_incidents(bootstrap, topics.name("incidents"), ids)
    dlq = await read_topic(bootstrap, topics.name("dlq"), lambda _: False, 1.0)
    stop.set()
    await asyncio.wait_for(worker, 20)
    gathered: dict[str, set[str]] = {}
    for record in incidents:
        gathered.setdefault(record["id"], set()).update(record["alerts"])
    return {"anomalies": {a["id"] for a in anomalies}, "incidents": gathered, "dlq": dlq}


async def test_a_host_fifteen_minutes_ahead_changes_no_incident_of_the_worker(
    kafka_bootstrap: str, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.WARNING, logger="vigil.incident")
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    plain_records = _records(0.0)
    found = expected_anomalies(plain_records)
    assert found, "the input must contain anomalies for this test to mean anything"
    assert not any(b"fast" in orjson.dumps(a) for a in found.values())  # its ids stay the same
    plain = await _run(kafka_bootstrap, plain_records, rules)
    assert plain["incidents"], "the input must open incidents"
    skewed = await _run(kafka_bootstrap, _records(900.0), rules)
    late = [r.getMessage() for r in caplog.records if "late events" in r.getMessage()]
    assert not late, late  # nothing reached the incident stage behind its event time
    assert skewed["dlq"] == []
    assert plain["dlq"] == []
    assert skewed["anomalies"] == plain["anomalies"] == set(found)
    assert skewed["incidents"] == plain["incidents"]
