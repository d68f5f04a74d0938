"""Worker mode on a real broker: OTLP records on a Kafka topic (as the Collector's Kafka
exporter writes them) give the anomalies the JSON records give, and remote write posted to a
worker's HTTP API reaches the metrics topic."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import snappy
from opentelemetry.exporter.prometheus_remote_write.gen.remote_pb2 import WriteRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from connectors.kafka.app import load_worker_rules, serve
from connectors.kafka.services import WorkerServices
from tests.integration.kafka_io import (
    Patience,
    create_topics,
    expected_anomaly_ids,
    metric_records,
    produce,
    read_topic,
    worker_config,
)

pytestmark = pytest.mark.integration
TOKEN = "worker-ingest-token-123"
RESOURCE_KEYS = {"service": "service.name", "host": "host.name", "cluster": "k8s.cluster.name"}


def otlp_values(records: list[dict[str, Any]], per_record: int) -> list[tuple[bytes, bytes]]:
    """The JSON metric records as OTLP export requests: one resource per series, gauge
    points, ``per_record`` points per Kafka record, keyed by resource (what the exporter's
    ``partition_metrics_by_resource_attributes`` does)."""
    by_series: dict[tuple[tuple[str, str], ...], list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        by_series[tuple(sorted(r["labels"].items()))].append(r)
    out = []
    for labels, points in by_series.items():
        for start in range(0, len(points), per_record):
            request = ExportMetricsServiceRequest()
            resource = request.resource_metrics.add()
            for name, value in labels:
                kv = resource.resource.attributes.add(key=RESOURCE_KEYS[name])
                kv.value.string_value = value
            metric = resource.scope_metrics.add().metrics.add(name="latency")
            for p in points[start : start + per_record]:
                point = metric.gauge.data_points.add(as_double=p["value"])
                point.time_unix_nano = int(p["ts"] * 1e9)
            out.append((repr(labels).encode(), request.SerializeToString()))
    return out


async def _silence_through_the_v2_api(http: httpx.AsyncClient) -> None:
    """amtool's ``silence add`` and ``query`` against a worker: the shared (Kafka) store."""
    now = datetime.now(UTC)
    silence = {
        "matchers": [{"name": "service", "value": "payments", "isRegex": False, "isEqual": True}],
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(hours=1)).isoformat(),
        "createdBy": "ana",
        "comment": "maintenance",
    }
    auth = {"Authorization": f"Bearer {TOKEN}"}
    created = await http.post("/api/v2/silences", json=silence, headers=auth, timeout=30)
    assert created.status_code == 200, created.text
    listed = (await http.get("/api/v2/silences")).json()
    assert [(s["id"], s["status"]["state"]) for s in listed] == [
        (created.json()["silenceID"], "active")
    ]


async def test_otlp_topic_and_remote_write_reach_the_worker(
    kafka_bootstrap: str, kafka_names, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    topics, group = kafka_names
    topics = type(topics)(prefix=topics.prefix, otlp_metrics="otlp_metrics")
    monkeypatch.setenv("T_INGEST_TOKEN", TOKEN)
    cfg = worker_config(
        kafka_bootstrap,
        topics,
        group,
        http_port=0,
        http_host="127.0.0.1",
        api_token_env="T_INGEST_TOKEN",
        delivery_path=str(tmp_path / "delivery"),
    )
    await create_topics(cfg)
    records = metric_records(4, 60, seed=11)
    expected = expected_anomaly_ids(records)
    assert expected, "the input must contain anomalies for this test to mean anything"
    await produce(kafka_bootstrap, topics.name("otlp_metrics"), otlp_values(records, 7))

    services = WorkerServices(cfg, load_worker_rules(cfg))
    stop = asyncio.Event()
    worker = asyncio.create_task(serve(cfg, stop, services))
    try:
        anomalies = await read_topic(
            kafka_bootstrap,
            topics.name("anomalies"),
            lambda got: {a["id"] for a in got} >= expected,
        )
        assert {a["id"] for a in anomalies} == expected

        patience = Patience(30.0)
        while services.port is None and not patience.expired():
            await asyncio.sleep(0.1)
        request = WriteRequest()
        series = request.timeseries.add()
        for name, value in (("__name__", "up"), ("instance", "node-9:9100"), ("job", "node")):
            series.labels.add(name=name, value=value)
        series.samples.add(value=1.0, timestamp=1_764_118_800_000)
        headers = {
            "Authorization": f"Bearer {TOKEN}",
            "Content-Encoding": "snappy",
            "Content-Type": "application/x-protobuf",
            "X-Prometheus-Remote-Write-Version": "0.1.0",
        }
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{services.port}") as http:
            body = snappy.compress(request.SerializeToString())
            answer = await http.post("/api/v1/write", content=body, headers=headers, timeout=30)
            assert answer.status_code == 204, answer.text
            await _silence_through_the_v2_api(http)
        written = await read_topic(
            kafka_bootstrap, topics.name("metrics"), lambda got: len(got) >= 1
        )
        assert written == [
            {
                "ts": 1764118800.0,
                "name": "up",
                "value": 1.0,
                "labels": {"instance": "node-9:9100", "job": "node"},  # as sent
            }
        ]
    finally:
        stop.set()
        await asyncio.wait_for(worker, 30)
