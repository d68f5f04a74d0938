"""Two workers on a real broker share one picture: incidents, silences, acknowledgements, lag.

Worker A (no delivery) and worker B (the only dispatcher) split the partitions of one group.
Timeline: a silence is created through A's API; once B lists it, alerts for eight clusters
(one on the silenced service) are posted to A. Then: every incident is listed by both APIs,
including incidents only A's pipeline produced; B's dispatcher suppresses the silenced
incident's action and delivers the others; an acknowledgement made on A reaches B's event
stream and console, and a fresh reader of the silences topic finds both records; both export
consumer lag per partition.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import CollectorRegistry, Gauge

from connectors.kafka.app import load_worker_rules, serve
from connectors.kafka.config import WorkerConfig
from connectors.kafka.control import SharedControl
from connectors.kafka.follower import TopicFollower
from connectors.kafka.lag import LagMonitor
from connectors.kafka.services import WorkerServices
from engine.events import Action, Incident, RetrainRequest
from tests.integration.kafka_io import (
    Patience,
    create_topics,
    produce,
    read_topic,
    worker_config,
)

pytestmark = pytest.mark.integration

TOKEN = "shared-api-token-123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
RULES = """
runtime:
  idle_source: 2s  # a short input: release its tail once it stops
correlation:
  confirm_s: 0
routing:
  receivers:
    - {name: out, type: file, path: delivered.jsonl}
  route: {receiver: out, group_wait: 0s, group_interval: 0s, repeat_interval: 0s}
"""
CLUSTERS = [f"c{i}" for i in range(8)]


class LocalRecording(WorkerServices):
    """The real services, also noting which incidents this worker's own pipeline produced."""

    def __init__(self, cfg: WorkerConfig) -> None:
        super().__init__(cfg, load_worker_rules(cfg))
        self.local: set[str] = set()

    def observe_incident_outputs(self, outs: Sequence[Incident | Action | RetrainRequest]) -> None:
        self.local |= {o.id for o in outs if isinstance(o, Incident)}
        super().observe_incident_outputs(outs)


def alert(cluster: str, service: str) -> dict[str, Any]:
    return {
        "status": "firing",
        "labels": {"alertname": "HighErrorRate", "service": service, "cluster": cluster},
        "annotations": {"summary": "5xx > 5%"},
        "startsAt": "2025-11-26T00:01:00Z",
    }


async def wait_for(check: Callable[[], Awaitable[Any]], timeout_s: float = 40.0) -> Any:
    patience = Patience(timeout_s)  # timeout_s without progress of the worker, not in total
    while not patience.expired():
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"not true after {timeout_s}s without progress")


def owned_incident_in(services: WorkerServices, cfg: WorkerConfig) -> set[int]:
    topic = cfg.topics.name("incident_in")  # read by the worker's consumer (watched for lag)
    return {
        tp.partition for c in services.lag.consumers for tp in c.assignment() if tp.topic == topic
    }


async def read_ack_event(http: httpx.AsyncClient, incident_id: str) -> dict[str, Any]:
    async with http.stream("GET", "/api/v1/stream", timeout=None) as response:
        event = None
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line[len("event: ") :]
            elif line.startswith("data: ") and event == "ack":
                data: dict[str, Any] = orjson.loads(line[len("data: ") :])
                if data["incident"] == incident_id:
                    return data
    raise AssertionError("stream ended")


async def read_control(cfg: WorkerConfig) -> SharedControl:
    """A fresh reader of the silences topic, from the beginning (what a restart would see)."""

    async def unused(key: bytes, value: bytes) -> None:
        raise AssertionError("read only")

    control = SharedControl(unused)
    follower = TopicFollower(
        [cfg.topics.name("silences")], cfg.client_kwargs(), control.apply_records
    )
    await follower.start()
    try:
        assert await follower.catch_up(10.0)
    finally:
        await follower.stop()
    return control


async def test_two_workers_share_incidents_silences_acks_and_export_lag(
    kafka_bootstrap: str, kafka_names, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    topics, group = kafka_names
    (tmp_path / "rules.yaml").write_text(RULES)
    monkeypatch.setenv("T_SHARED_TOKEN", TOKEN)
    base = worker_config(
        kafka_bootstrap,
        topics,
        group,
        rules_path=str(tmp_path / "rules.yaml"),
        http_port=0,
        http_host="127.0.0.1",
        api_token_env="T_SHARED_TOKEN",
        lag_interval_s=0.5,
    )
    await create_topics(base)
    cfg_a = base.with_overrides(client_id="worker-a", delivery=False)
    cfg_b = base.with_overrides(client_id="worker-b", delivery_path=str(tmp_path / "b"))
    a, b = LocalRecording(cfg_a), LocalRecording(cfg_b)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(serve(cfg, stop, s)) for cfg, s in ((cfg_a, a), (cfg_b, b))]
    try:
        await wait_for(lambda: _true(a.port is not None and b.port is not None))
        http_a = httpx.AsyncClient(base_url=f"http://127.0.0.1:{a.port}", timeout=5)
        http_b = httpx.AsyncClient(base_url=f"http://127.0.0.1:{b.port}", timeout=5)
        async with http_a, http_b:
            await _check_scenario(cfg_a, a, b, http_a, http_b, tmp_path)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)


async def _check_scenario(  # type: ignore[no-untyped-def]
    cfg, a, b, http_a: httpx.AsyncClient, http_b: httpx.AsyncClient, tmp_path: Path
) -> None:
    topics = cfg.topics
    # both workers own part of the incident stage
    await wait_for(lambda: _true(owned_incident_in(a, cfg) and owned_incident_in(b, cfg)))

    silence = {"matchers": ["service=payments"], "duration": "1h", "comment": "migration"}
    created = await http_a.post("/api/v1/silences", json=silence, headers=AUTH)
    assert created.status_code == 201, created.text
    silence_id = created.json()["id"]

    async def b_lists_silence() -> bool:
        listed = (await http_b.get("/api/v1/silences")).json()["silences"]
        return any(s["id"] == silence_id and s["status"] == "active" for s in listed)

    await wait_for(b_lists_silence)

    alerts = [alert(c, "payments" if c == "c0" else f"orders-{c}") for c in CLUSTERS]
    payload = {"version": "4", "status": "firing", "receiver": "vigil", "alerts": alerts}
    posted = await http_a.post("/api/v1/alerts", json=payload, headers=AUTH)
    assert posted.status_code == 202, posted.text

    incidents = await read_topic(
        cfg.bootstrap_servers,
        topics.name("incidents"),
        lambda got: len({i["id"] for i in got}) >= len(CLUSTERS),
    )
    ids = {i["id"] for i in incidents}
    assert len(ids) == len(CLUSTERS)

    async def both_list_all() -> bool:
        for http in (http_a, http_b):
            listed = (await http.get("/api/v1/incidents", params={"limit": 100})).json()
            if not ids <= {i["id"] for i in listed["incidents"]}:
                return False
        return True

    await wait_for(both_list_all)
    only_a = a.local - b.local
    assert only_a, f"A produced no incident of its own (A {a.local}, B {b.local})"
    for incident_id in only_a:
        assert (await http_b.get(f"/api/v1/incidents/{incident_id}")).status_code == 200

    # B's dispatcher: the silenced incident's action is suppressed, the others delivered
    payments = next(i["id"] for i in incidents if i["root_causes"][0]["node"] == "payments")
    actions = await read_topic(
        cfg.bootstrap_servers,
        topics.name("actions"),
        lambda got: len({x["incident"] for x in got if x["status"] != "decided"}) >= len(ids),
    )
    outcomes = {x["incident"]: x for x in actions if x["status"] != "decided"}
    assert outcomes[payments]["status"] == "suppressed"
    assert silence_id in outcomes[payments]["error"]
    assert all(outcomes[i]["status"] == "delivered" for i in ids - {payments})
    delivered = (tmp_path / "b" / "delivered.jsonl").read_text()
    assert payments not in delivered
    assert all(i in delivered for i in ids - {payments})

    # the console on A (which delivers nothing) shows B's delivery outcomes
    async def a_shows_outcome() -> bool:
        detail = (await http_a.get(f"/api/v1/incidents/{payments}/detail")).json()
        return any(x.get("status") == "suppressed" for x in detail.get("actions", []))

    await wait_for(a_shows_outcome)
    await _check_ack_and_lag(cfg, http_a, http_b, next(iter(only_a)), silence_id)


async def _check_ack_and_lag(  # type: ignore[no-untyped-def]
    cfg, http_a: httpx.AsyncClient, http_b: httpx.AsyncClient, incident_id: str, silence_id: str
) -> None:
    pushed = asyncio.create_task(read_ack_event(http_b, incident_id))
    await asyncio.sleep(0.5)  # the stream is open before the acknowledgement
    acked = await http_a.post(
        f"/api/v1/incidents/{incident_id}/ack", json={"by": "ana", "comment": "on it"}, headers=AUTH
    )
    assert acked.status_code == 200, acked.text
    event = await asyncio.wait_for(pushed, 20)
    assert event["ack"]["by"] == "ana"
    listed = (await http_b.get("/api/v1/console/incidents")).json()["incidents"]
    assert next(i for i in listed if i["id"] == incident_id)["ack"]["comment"] == "on it"

    control = await read_control(cfg)
    assert control.acks[incident_id].by == "ana"
    assert silence_id in control.silences

    metrics_topic = cfg.topics.name("metrics")

    async def lag_exported() -> bool:
        # both workers run in this process and so share one registry: together they own all 4
        text = (await http_a.get("/metrics")).text + (await http_b.get("/metrics")).text
        found = re.findall(r'vigil_consumer_lag_records\{partition="(\d)",topic="([^"]+)"\}', text)
        return {int(p) for p, t in found if t == metrics_topic} == {0, 1, 2, 3}

    await wait_for(lag_exported, 20)


async def _true(value: object) -> bool:
    return bool(value)


async def test_lag_is_highwater_minus_position_per_partition(
    kafka_bootstrap: str, kafka_names
) -> None:
    topics, _ = kafka_names
    topic = topics.name("metrics")
    await produce(kafka_bootstrap, topic, [(b"k", b"%d" % i) for i in range(10)])
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        got = await consumer.getmany(tp, timeout_ms=5000, max_records=3)
        assert len(got[tp]) == 3
        registry = CollectorRegistry()
        gauge = Gauge("lag", "lag", ["topic", "partition"], registry=registry)
        monitor = LagMonitor(gauge, interval_s=1.0)
        monitor.watch(consumer)
        assert await monitor.sample() == {tp: 7}
        assert registry.get_sample_value("lag", {"topic": topic, "partition": "0"}) == 7
        consumer.assign([])  # a partition no longer owned loses its series
        assert await monitor.sample() == {}
        assert registry.get_sample_value("lag", {"topic": topic, "partition": "0"}) is None
    finally:
        await consumer.stop()
