"""The OTLP JSON reader gives what the protobuf path gives for the same SDK-made requests, and
the ingest benchmark's paths agree on the samples."""

from __future__ import annotations

import logging

import orjson
import pytest
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common._internal._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common._internal.metrics_encoder import encode_metrics
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource

from benchmarks.ingest import main as bench_main
from connectors.formats.otlp import decode_logs, decode_metrics
from engine.events import Level, LogRecord, MetricPoint
from engine.ingest.decode import Origin
from engine.ingest.node_labels import NodeLabels

RESOURCE = Resource.create({"service.name": "checkout", "k8s.pod.name": "checkout-7c9f"})


def as_json(message: object, integers: bool) -> bytes:
    text = json_format.MessageToJson(message, indent=None, use_integers_for_enums=integers)  # type: ignore[arg-type]
    return text.encode()


def test_metrics_in_json_decode_like_protobuf() -> None:
    reader = InMemoryMetricReader()
    meter = MeterProvider(resource=RESOURCE, metric_readers=[reader]).get_meter("m")
    meter.create_counter("orders").add(7, {"region": "eu", "retried": True})
    meter.create_up_down_counter("queue").add(-3)
    histogram = meter.create_histogram("latency")
    for value in (0.2, 0.4, 12.0):
        histogram.record(value, {"route": "/pay"})
    meter.create_gauge("temperature").set(21.5, {"sensor": "a"})
    request = encode_metrics(reader.get_metrics_data())
    origin = Origin("otlp", timestamp=1764115200.0)
    expected = decode_metrics(request.SerializeToString(), origin).events
    assert len(expected) == 5
    assert decode_metrics(as_json(request, True), origin, "json").events == expected


@pytest.mark.filterwarnings("ignore:`LoggingHandler` in `opentelemetry-sdk` is deprecated")
@pytest.mark.parametrize("integers", [True, False], ids=["enums-as-integers", "enums-as-names"])
def test_logs_in_json_decode_like_protobuf(integers: bool) -> None:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=RESOURCE)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = logging.getLogger("tests.otlp_json")
    handler = LoggingHandler(logger_provider=provider)
    logger.addHandler(handler)
    try:
        logger.warning("disk at %d%%", 91)
        logger.error("Connection refused to db-1:5432", extra={"peer": "db-1"})
    finally:
        logger.removeHandler(handler)
    request = encode_logs(exporter.get_finished_logs())
    origin = Origin("otlp", timestamp=1764115200.0)
    expected = decode_logs(request.SerializeToString(), origin).events
    assert [r.message for r in expected] == ["disk at 91%", "Connection refused to db-1:5432"]
    assert decode_logs(as_json(request, integers), origin, "json").events == expected


def test_structurally_wrong_json_is_one_dead_letter_naming_the_key() -> None:
    [reject] = decode_metrics(b'{"resourceMetrics": {"a": 1}}', Origin("otlp"), "json").events
    assert reject.error == (  # type: ignore[union-attr]
        "not an OTLP ExportMetricsServiceRequest (JSON: resourceMetrics: expected an array)"
    )


def test_the_ingest_benchmark_runs_and_its_paths_agree(capsys: pytest.CaptureFixture[str]) -> None:
    bench_main(["--series", "20", "--points", "3", "--rounds", "1", "--per-request", "30"])
    out = capsys.readouterr().out
    for path in ("baseline JSON records", "remote write", "OTLP protobuf", "OTLP JSON"):
        assert path in out


def test_the_otlp_specification_example_shapes_decode() -> None:
    """Trimmed from opentelemetry-proto's examples/metrics.json and logs.json: integers as
    JSON numbers, hex trace ids (ignored), a severity text that is no level name (INFO)."""
    point = {"asDouble": 5, "timeUnixNano": 1544712660300000000, "attributes": [
        {"key": "my.counter.attr", "value": {"stringValue": "some value"}}]}  # fmt: skip
    service = {"key": "service.name", "value": {"stringValue": "my.service"}}
    metrics = {"resourceMetrics": [{
        "resource": {"attributes": [service]},
        "scopeMetrics": [{"scope": {"name": "my.library", "version": "1.0.0"}, "metrics": [
            {"name": "my.counter", "unit": "1", "sum": {"aggregationTemporality": 1,
             "isMonotonic": True, "dataPoints": [point]}},
            {"name": "my.histogram", "histogram": {"aggregationTemporality": 1, "dataPoints": [
                {"timeUnixNano": 1544712660300000000, "count": 3, "sum": 3,
                 "bucketCounts": [1, 1, 1], "explicitBounds": [1], "min": 1, "max": 1}]}},
        ]}]}]}  # fmt: skip
    events = decode_metrics(orjson.dumps(metrics), Origin("otlp"), "json").events
    assert [(e.name, e.value, e.ts) for e in events] == [  # type: ignore[union-attr]
        ("my.counter", 5.0, 1544712660.3),
        ("my.histogram_count", 3.0, 1544712660.3),
        ("my.histogram_sum", 3.0, 1544712660.3),
    ]
    assert events[0].labels == {"service": "my.service", "my.counter.attr": "some value"}  # type: ignore[union-attr]
    logs = {"resourceLogs": [{"resource": {}, "scopeLogs": [{"logRecords": [{
        "timeUnixNano": 1544712660300000000, "severityText": "Information",
        "traceId": "5B8EFFF798038103D269B633813FC60C", "spanId": "EEE19B7EC3C1B174",
        "body": {"stringValue": "Example log record"}}]}]}]}  # fmt: skip
    [record] = decode_logs(orjson.dumps(logs), Origin("otlp"), "json").events
    assert record == LogRecord(1544712660.3, "Example log record", Level.INFO, {})


def test_an_sdk_without_service_name_leaves_the_node_to_its_kubernetes_attributes() -> None:
    """The SDK fills an unset ``service.name`` with ``unknown_service:<executable>``; kept, it
    would name every such process one service (a ``service`` label always wins). Fails on
    main: the labels held ``service: unknown_service:python``."""
    pod = {"k8s.namespace.name": "shop", "k8s.pod.name": "checkout-7d9c8b6f5d-x2k9p"}
    resource = Resource.create(pod)
    assert str(resource.attributes["service.name"]).startswith("unknown_service")
    reader = InMemoryMetricReader()
    MeterProvider(resource=resource, metric_readers=[reader]).get_meter("m").create_counter(
        "orders"
    ).add(1)
    request = encode_metrics(reader.get_metrics_data())
    origin = Origin("otlp", timestamp=1764115200.0)
    for events in (decode_metrics(request.SerializeToString(), origin).events,
                   decode_metrics(as_json(request, True), origin, "json").events):
        [point] = events
        assert isinstance(point, MetricPoint)
        assert point.labels == {"namespace": "shop", "pod": "checkout-7d9c8b6f5d-x2k9p"}
        assert NodeLabels().node(point.labels) == ("service", "checkout")
