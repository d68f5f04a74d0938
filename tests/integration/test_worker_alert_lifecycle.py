"""A worker fed only by Alertmanager (issue 17): a critical alert re-sent every 60 s opens an
incident while it fires, and its resolve resolves it.

The webhook payloads go to the alerts topic with the Kafka record time of their arrival (what
the HTTP ingest or a bridge writes), ``startsAt`` the same in every re-send. On main nothing
opened while the alert fired (every re-send's event time was ``startsAt``: event time never
moved), the incident opened at the resolve and then stayed open.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from connectors.kafka.app import serve
from engine.testing import T0
from tests.integration.kafka_io import create_topics, read_topic, worker_config

pytestmark = pytest.mark.integration

STARTS = T0 + 600.0
ENDS = STARTS + 540.0  # 9 minutes


def _rfc3339(ts: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _webhook(name: str, severity: str, ends: float | None) -> dict[str, Any]:
    status = "firing" if ends is None else "resolved"
    return {
        "version": "4", "status": status, "receiver": "vigil",
        "alerts": [{
            "status": status,
            "labels": {"alertname": name, "service": "db", "severity": severity},
            "annotations": {}, "startsAt": _rfc3339(STARTS),
            "endsAt": "0001-01-01T00:00:00Z" if ends is None else _rfc3339(ends),
        }],
    }


async def test_re_sent_critical_alert_opens_while_firing_and_its_resolve_resolves(
    kafka_bootstrap: str, kafka_names, tmp_path: Path
) -> None:
    topics, group = kafka_names
    rules = tmp_path / "rules.yaml"
    rules.write_text("runtime:\n  idle_source: 2s\n")
    cfg = worker_config(kafka_bootstrap, topics, group, rules_path=str(rules))
    await create_topics(cfg)
    sends = [(STARTS + 60.0 * i, _webhook("DbDown", "critical", None)) for i in range(9)]
    sends.append((ENDS, _webhook("DbDown", "critical", ENDS)))
    sends.append((ENDS + 3600.0, _webhook("Tick", "info", None)))  # time moves on later
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, linger_ms=5)
    await producer.start()
    try:
        for arrival, payload in sends:
            await producer.send(topics.name("alerts"), orjson.dumps(payload), key=b"db",
                                timestamp_ms=int(arrival * 1000))
        await producer.flush()
    finally:
        await producer.stop()

    stop = asyncio.Event()
    worker = asyncio.create_task(serve(cfg, stop))
    try:
        incidents = await read_topic(
            kafka_bootstrap, topics.name("incidents"),
            lambda got: any(i["status"] == "resolved" and i["alerts"] for i in got),
        )
    finally:
        stop.set()
        await asyncio.wait_for(worker, 30)

    db = [i for i in incidents if "db" in i["nodes"]]
    assert [i["status"] for i in db] == ["open", "resolved"]
    assert db[0]["updated_at"] < ENDS, "opened while the alert fired, not at its resolve"
    assert db[1]["updated_at"] == ENDS, "resolved at its resolve"
    assert "noise" not in db[1]["labels"]
