"""End to end through a real broker: inputs produced -> worker -> anomalies, incidents, dlq."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from connectors.kafka.app import serve
from tests.integration.kafka_io import (
    create_topics,
    expected_anomaly_ids,
    key_of,
    metric_records,
    produce,
    read_topic,
    worker_config,
)

pytestmark = pytest.mark.integration

BAD_RECORDS = [
    (b"bad", b"{not json"),
    (b"bad", orjson.dumps({"ts": 1.0, "name": "cpu", "value": "high"})),
    (b"bad", orjson.dumps([{"ts": 1.0, "name": "cpu", "value": 1.0}, {"name": "cpu"}])),
]


async def test_worker_emits_the_embedded_anomalies_incidents_and_dead_letters(
    kafka_bootstrap: str, kafka_names, tmp_path: Path
) -> None:
    topics, group = kafka_names
    # open incidents at once (no confirmation hold): a short input never goes quiet long enough
    # for held candidates to be emitted, and this test is about the worker's wiring
    rules = tmp_path / "rules.yaml"
    rules.write_text("correlation:\n  confirm_s: 0\nruntime:\n  idle_source: 2s\n")
    cfg = worker_config(kafka_bootstrap, topics, group, rules_path=str(rules))
    await create_topics(cfg)
    records = metric_records(12, 120, seed=5)
    expected = expected_anomaly_ids(records)
    assert expected, "the input must contain anomalies for this test to mean anything"
    items = [(key_of(r), orjson.dumps(r)) for r in records]
    await produce(kafka_bootstrap, topics.name("metrics"), items[:500] + BAD_RECORDS + items[500:])

    stop = asyncio.Event()
    worker = asyncio.create_task(serve(cfg, stop))
    anomalies = await read_topic(
        kafka_bootstrap, topics.name("anomalies"), lambda got: {a["id"] for a in got} >= expected
    )
    dlq = await read_topic(kafka_bootstrap, topics.name("dlq"), lambda got: len(got) >= 3)
    incidents = await read_topic(
        kafka_bootstrap, topics.name("incidents"), lambda got: any(i["alerts"] for i in got)
    )
    stop.set()
    await asyncio.wait_for(worker, 20)

    assert {a["id"] for a in anomalies} == expected
    offsets = sorted(d["offset"] for d in dlq)
    assert offsets == list(range(offsets[0], offsets[0] + 3))  # same key: one partition, in order
    assert len({d["partition"] for d in dlq}) == 1
    assert {d["source"] for d in dlq} == {topics.name("metrics")}
    assert all(d["error"] for d in dlq)
    # a bad element of a batch is dead-lettered alone, as that element (docs/events.md)
    expected_values = {v.decode() for _, v in BAD_RECORDS[:-1]} | {'{"name":"cpu"}'}
    assert {d["value"] for d in dlq} == expected_values
    incident_alerts = {a for inc in incidents for a in inc["alerts"]}
    assert incident_alerts
    assert incident_alerts <= expected
