"""A worker's services on a real broker: HTTP API on port 0, readiness, metrics, ingest, console."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from connectors.kafka.app import load_worker_rules, serve
from connectors.kafka.services import WorkerServices
from connectors.metrics import vigil_version
from tests.integration.kafka_io import (
    Patience,
    create_topics,
    key_of,
    metric_records,
    produce,
    read_topic,
    worker_config,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "worker-api-token-123"
PAYLOAD = {
    "version": "4",
    "status": "firing",
    "receiver": "vigil",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "HighErrorRate", "service": "payments", "cluster": "c0"},
            "annotations": {"summary": "5xx > 5%"},
            "startsAt": "2025-11-26T00:01:00Z",
        }
    ],
}


async def _wait_for(check, timeout_s: float = 30.0):  # type: ignore[no-untyped-def]
    patience = Patience(timeout_s)  # timeout_s without progress of the worker, not in total
    while not patience.expired():
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"not true after {timeout_s}s without progress")


def _sample(metrics_text: str, name: str, topic: str) -> float:
    for line in metrics_text.splitlines():
        if line.startswith(f'{name}{{topic="{topic}"}}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_worker_serves_health_metrics_ingest_and_console(
    kafka_bootstrap: str, kafka_names, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    topics, group = kafka_names
    rules = tmp_path / "rules.yaml"
    rules.write_text("correlation:\n  confirm_s: 0\nruntime:\n  idle_source: 2s\n")
    monkeypatch.setenv("T_VIGIL_TOKEN", TOKEN)
    cfg = worker_config(
        kafka_bootstrap,
        topics,
        group,
        rules_path=str(rules),
        http_port=0,
        http_host="127.0.0.1",
        api_token_env="T_VIGIL_TOKEN",
        delivery_path=str(tmp_path / "delivery"),
    )
    await create_topics(cfg)
    records = metric_records(4, 60, seed=3)
    await produce(
        kafka_bootstrap, topics.name("metrics"), [(key_of(r), orjson.dumps(r)) for r in records]
    )

    services = WorkerServices(cfg, load_worker_rules(cfg))
    stop = asyncio.Event()
    worker = asyncio.create_task(serve(cfg, stop, services))
    try:
        port = await _wait_for(lambda: _value(services.port))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            assert (await http.get("/healthz")).status_code == 200

            async def ready() -> bool:
                return (await http.get("/readyz")).status_code == 200

            await _wait_for(ready)

            async def counted() -> str | None:
                text = (await http.get("/metrics")).text
                read = _sample(text, "vigil_records_in_total", topics.name("metrics"))
                return text if read >= len(records) else None

            text = await _wait_for(counted)
            assert _sample(text, "vigil_records_out_total", topics.name("anomalies")) > 0
            assert "vigil_ready 1.0" in text
            await _check_runtime_metrics(http)

            refused = await http.post("/api/v1/alerts", json=PAYLOAD)
            assert refused.status_code == 401
            accepted = await http.post(
                "/api/v1/alerts", json=PAYLOAD, headers={"Authorization": f"Bearer {TOKEN}"}
            )
            assert accepted.status_code == 202, accepted.text
            assert accepted.json()["accepted"] == 1

            incidents = await read_topic(
                kafka_bootstrap,
                topics.name("incidents"),
                lambda got: any("am-" in a for i in got for a in i["alerts"]),
            )
            incident = next(i for i in incidents if any("am-" in a for a in i["alerts"]))
            assert incident["root_causes"][0]["node"] == "payments"

            async def listed() -> bool:
                body = (await http.get(f"/api/v1/incidents/{incident['id']}")).json()
                return body.get("id") == incident["id"]

            await _wait_for(listed)
            page = await http.get("/")
            assert page.status_code == 200
            assert "<html" in page.text.lower()
            assert page.text == (ROOT / "connectors/console/static/index.html").read_text()
    finally:
        stop.set()
        await asyncio.wait_for(worker, 30)


async def _check_runtime_metrics(http: httpx.AsyncClient) -> None:
    """Stage latency, state size and event-time lag are set by the worker (after a
    checkpoint); build info and process metrics are there; a 404 is counted as one."""

    async def samples() -> dict[tuple[str, tuple[tuple[str, str], ...]], float] | None:
        text = (await http.get("/metrics")).text
        found = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }
        sized = found.get(("vigil_state_size_bytes", (("stage", "detect"),)), 0.0) > 0
        return found if sized else None

    found = await _wait_for(samples)
    assert found[("vigil_stage_latency_seconds_count", (("stage", "detect"),))] > 0
    assert found[("vigil_event_time_lag_seconds", ())] > 0  # the records are from the past
    assert found[("vigil_build_info", (("version", vigil_version()),))] == 1
    assert found[("process_resident_memory_bytes", ())] > 0
    assert (await http.get("/no/such/page")).status_code == 404
    text = (await http.get("/metrics")).text
    assert 'vigil_http_requests_total{route="unmatched",status="404"}' in text
    assert 'route=""' not in text


async def _value(value: int | None) -> int | None:
    return value
