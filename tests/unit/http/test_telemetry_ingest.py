"""Prometheus remote write and OTLP/HTTP against a real server, driven by the projects' own
client code: the OpenTelemetry SDK's OTLP/HTTP exporters, the remote-write exporter of
opentelemetry-python-contrib, and ``prompb`` messages built with the library and compressed
with python-snappy (the compression Prometheus' Python clients use)."""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterator

import httpx
import orjson
import pytest
import snappy
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common._internal.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.prometheus_remote_write import PrometheusRemoteWriteMetricsExporter
from opentelemetry.exporter.prometheus_remote_write.gen.remote_pb2 import WriteRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricExportResult
from opentelemetry.sdk.resources import Resource

from connectors.http.ingest import QueueIngest
from connectors.http.state import AppState
from connectors.http.thread import BackgroundServer
from engine.events import Level, LogRecord, MetricPoint, Rejected
from engine.ingest.node_labels import NodeLabels
from engine.rules.runtime import HttpLimits
from tests.unit.http.conftest import TOKEN

BEARER = {"Authorization": f"Bearer {TOKEN}"}
RW_HEADERS = {
    **BEARER,
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}
STALE_NAN = struct.unpack("<d", struct.pack("<Q", 0x7FF0000000000002))[0]
RESOURCE = {"service.name": "checkout", "host.name": "node-3", "process.pid": 4242}


@pytest.fixture
def served() -> Iterator[tuple[AppState, str]]:
    state = AppState(ingest=QueueIngest(maxsize=1000), token=TOKEN, limits=HttpLimits())
    with BackgroundServer(state) as server:
        yield state, server.url


def drained(state: AppState) -> list[object]:
    assert isinstance(state.ingest, QueueIngest)
    return state.ingest.drain()


def sdk_metrics() -> object:
    """MetricsData as the OpenTelemetry SDK collects it: a counter and a histogram."""
    reader = InMemoryMetricReader()
    meter = MeterProvider(resource=Resource.create(RESOURCE), metric_readers=[reader]).get_meter(
        "shop"
    )
    meter.create_counter("http.requests").add(3, {"route": "/pay"})
    latency = meter.create_histogram("latency")
    latency.record(0.2)
    latency.record(0.4)
    return reader.get_metrics_data()


def write_request(*series: tuple[dict[str, str], list[tuple[float, int]]]) -> bytes:
    request = WriteRequest()
    for labels, samples in series:
        ts = request.timeseries.add()
        for name, value in sorted(labels.items()):
            ts.labels.add(name=name, value=value)
        for value, ts_ms in samples:
            ts.samples.add(value=value, timestamp=ts_ms)
    return bytes(snappy.compress(request.SerializeToString()))


# Remote write ---------------------------------------------------------------------------------


def test_remote_write_samples_become_metric_points_with_the_labels_as_sent(
    served: tuple[AppState, str],
) -> None:
    state, url = served
    body = write_request(
        (
            {"__name__": "node_load1", "job": "node", "instance": "node-3:9100"},
            [(0.5, 1764115200000), (0.75, 1764115215000)],
        ),
    )
    response = httpx.post(f"{url}/api/v1/write", content=body, headers=RW_HEADERS)
    assert response.status_code == 204
    labels = {"job": "node", "instance": "node-3:9100"}  # topology.node_labels names the node
    assert drained(state) == [
        MetricPoint(1764115200.0, "node_load1", 0.5, labels),
        MetricPoint(1764115215.0, "node_load1", 0.75, labels),
    ]


def test_stale_markers_are_skipped_and_other_nan_is_a_counted_dead_letter(
    served: tuple[AppState, str],
) -> None:
    state, url = served
    series = {"__name__": "up", "job": "api"}
    body = write_request((series, [(1.0, 1000), (STALE_NAN, 2000), (float("nan"), 3000)]))
    assert httpx.post(f"{url}/api/v1/write", content=body, headers=RW_HEADERS).status_code == 204
    events = drained(state)
    assert [type(e).__name__ for e in events] == ["MetricPoint", "Rejected"]
    reject = events[1]
    assert isinstance(reject, Rejected)
    assert reject.error == "value: not a finite number (got nan)"
    assert orjson.loads(reject.value)["timestamp_ms"] == 3000
    metrics = httpx.get(f"{url}/metrics").text
    assert 'vigil_dead_letters_total{reason="value: not a finite number"} 1.0' in metrics


def test_a_body_that_is_not_snappy_protobuf_is_400_and_a_dead_letter(
    served: tuple[AppState, str],
) -> None:
    state, url = served
    response = httpx.post(f"{url}/api/v1/write", content=b"\x05hello", headers=RW_HEADERS)
    assert response.status_code == 400
    assert response.json()["error"].startswith("not snappy block data")
    [reject] = drained(state)
    assert isinstance(reject, Rejected)
    assert reject.value == b"\x05hello"


def test_remote_write_2_and_other_encodings_are_415(served: tuple[AppState, str]) -> None:
    _, url = served
    v2 = {
        **RW_HEADERS,
        "Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request",
    }
    body = write_request(({"__name__": "up"}, [(1.0, 1000)]))
    assert httpx.post(f"{url}/api/v1/write", content=body, headers=v2).status_code == 415
    gzip = {**RW_HEADERS, "Content-Encoding": "gzip"}
    assert httpx.post(f"{url}/api/v1/write", content=body, headers=gzip).status_code == 415


def test_the_remote_write_exporter_reaches_the_pipeline(served: tuple[AppState, str]) -> None:
    state, url = served
    exporter = PrometheusRemoteWriteMetricsExporter(endpoint=f"{url}/api/v1/write", headers=BEARER)
    assert exporter.export(sdk_metrics()) is MetricExportResult.SUCCESS
    points = [e for e in drained(state) if isinstance(e, MetricPoint)]
    requests = [p for p in points if p.name == "http_requests"]
    assert [(p.value, p.labels["service_name"], p.labels["host_name"]) for p in requests] == [
        (3.0, "checkout", "node-3")
    ]  # the exporter's flattened resource attributes, kept as sent; they name the node:
    assert NodeLabels().apply(requests[0]).labels["service"] == "checkout"


def test_remote_write_without_the_token_is_401(served: tuple[AppState, str]) -> None:
    _, url = served
    headers = {k: v for k, v in RW_HEADERS.items() if k != "Authorization"}
    assert httpx.post(f"{url}/api/v1/write", content=b"", headers=headers).status_code == 401


# OTLP/HTTP ------------------------------------------------------------------------------------


def test_the_otlp_metric_exporter_reaches_the_pipeline_gzip(served: tuple[AppState, str]) -> None:
    state, url = served
    exporter = OTLPMetricExporter(
        endpoint=f"{url}/v1/metrics", headers=BEARER, compression=Compression.Gzip
    )
    assert exporter.export(sdk_metrics()) is MetricExportResult.SUCCESS
    points = {p.name: p for p in drained(state) if isinstance(p, MetricPoint)}
    assert set(points) == {"http.requests", "latency_count", "latency_sum"}
    assert points["http.requests"].value == 3.0
    assert points["http.requests"].labels == {
        "service": "checkout",
        "host": "node-3",
        "route": "/pay",
    }
    assert (points["latency_count"].value, points["latency_sum"].value) == pytest.approx((2, 0.6))


@pytest.mark.filterwarnings("ignore:`LoggingHandler` in `opentelemetry-sdk` is deprecated")
def test_the_otlp_log_exporter_reaches_the_pipeline(served: tuple[AppState, str]) -> None:
    state, url = served
    provider = LoggerProvider(resource=Resource.create(RESOURCE))
    provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{url}/v1/logs", headers=BEARER))
    )
    logger = logging.getLogger("tests.otlp")
    handler = LoggingHandler(logger_provider=provider)
    logger.addHandler(handler)
    try:
        logger.error("Connection refused to db-1:5432")
        provider.force_flush()
    finally:
        logger.removeHandler(handler)
        provider.shutdown()
    [record] = drained(state)
    assert isinstance(record, LogRecord)
    assert (record.message, record.level) == ("Connection refused to db-1:5432", Level.ERROR)
    assert record.labels == {"service": "checkout", "host": "node-3"}


def test_otlp_json_is_taken_and_answered_in_json(served: tuple[AppState, str]) -> None:
    state, url = served
    body = json_format.MessageToJson(encode_metrics(sdk_metrics()), use_integers_for_enums=True)
    headers = {**BEARER, "Content-Type": "application/json"}
    response = httpx.post(f"{url}/v1/metrics", content=body.encode(), headers=headers)
    assert (response.status_code, response.json()) == (200, {})
    assert {p.name for p in drained(state) if isinstance(p, MetricPoint)} == {
        "http.requests",
        "latency_count",
        "latency_sum",
    }


def test_a_non_finite_point_is_a_partial_success(served: tuple[AppState, str]) -> None:
    state, url = served
    request = encode_metrics(sdk_metrics())
    metric = request.resource_metrics[0].scope_metrics[0].metrics[0]
    metric.sum.data_points[0].as_double = float("inf")
    headers = {**BEARER, "Content-Type": "application/x-protobuf"}
    response = httpx.post(f"{url}/v1/metrics", content=request.SerializeToString(), headers=headers)
    assert response.status_code == 200
    answer = ExportMetricsServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_data_points == 1
    assert answer.partial_success.error_message == "value: not a finite number (got inf)"
    assert sum(isinstance(e, Rejected) for e in drained(state)) == 1


def test_an_unreadable_otlp_body_is_400_and_another_type_415(served: tuple[AppState, str]) -> None:
    state, url = served
    headers = {**BEARER, "Content-Type": "application/x-protobuf"}
    response = httpx.post(f"{url}/v1/logs", content=b"\xff\xff\xff", headers=headers)
    assert response.status_code == 400
    assert "ExportLogsServiceRequest" in response.json()["error"]
    assert len(drained(state)) == 1
    text = {**BEARER, "Content-Type": "text/plain"}
    assert httpx.post(f"{url}/v1/logs", content=b"x", headers=text).status_code == 415


def test_a_runtime_that_cannot_take_them_gets_503_which_otlp_retries() -> None:
    full = QueueIngest(maxsize=1)
    full.batches.put_nowait([])
    state = AppState(ingest=full, token=TOKEN)
    with BackgroundServer(state) as server:
        headers = {**BEARER, "Content-Type": "application/x-protobuf"}
        body = encode_metrics(sdk_metrics()).SerializeToString()
        response = httpx.post(f"{server.url}/v1/metrics", content=body, headers=headers)
        state.ingest = None  # vigil replay/demo --serve: no live input, a retry never helps
        final = httpx.post(f"{server.url}/v1/metrics", content=body, headers=headers)
    assert (response.status_code, response.headers["Retry-After"]) == (503, "1")
    assert final.status_code == 409
    assert "Retry-After" not in final.headers
