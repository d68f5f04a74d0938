"""HTTP ingest in worker mode: decoded events -> input-topic records that decode back to equal
events (``connectors.kafka.wire``), and OTLP records on Kafka as the Collector's Kafka exporter
writes them (``encoding: otlp_proto``) through the worker's decoder."""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry.exporter.otlp.proto.common._internal.metrics_encoder import encode_metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource

from connectors.kafka.config import Topics, config_from_dict
from connectors.kafka.decoder import decode_batch
from connectors.kafka.wire import records_of
from engine.events import (
    Alert,
    AlertStatus,
    Change,
    InputKind,
    Level,
    LogRecord,
    MetricPoint,
    Rejected,
    Severity,
)


@dataclass
class FakeRecord:
    """The three fields of an aiokafka ConsumerRecord the decoder reads."""

    offset: int
    timestamp: int
    value: bytes | None


EVENTS = [
    MetricPoint(1764115200.0, "up", 1.0, {"job": "api", "service": "api"}),
    MetricPoint(1764115215.0, "up", 0.0, {"job": "api", "service": "api"}),
    MetricPoint(1764115200.0, "up", 1.0, {"job": "db", "service": "db"}),
    LogRecord(1764115201.5, "Connection refused", Level.ERROR, {"service": "api"}),
    Change(1764115100.0, "deploy", "api", "f95f852bd8fc", "deploy of api", {"env": "prod"}),
    Alert(
        1764115200.0, "Down", AlertStatus.FIRING, Severity.CRITICAL, "a1b2", {"alertname": "Down"}
    ),
    Rejected("http:remote-write", "value: not a finite number (got nan)", b"{}"),
]
KINDS = {
    "metrics": InputKind.METRICS,
    "logs": InputKind.LOGS,
    "changes": InputKind.CHANGES,
    "alerts": InputKind.ALERTS,
}


def test_records_decode_back_to_the_same_events_keyed_as_the_contract_asks() -> None:
    records = records_of(EVENTS)
    decoded: list[object] = []
    for i, (topic, _key, value) in enumerate(records):
        if topic == "dlq":
            continue
        events, rejected = decode_batch(KINDS[topic], topic, 0, [FakeRecord(i, 0, value)])
        assert rejected == []
        decoded += events
    assert sorted(map(repr, decoded)) == sorted(map(repr, EVENTS[:-1]))
    keys = {(topic, key) for topic, key, _ in records}
    assert ("metrics", b'up{job="api",service="api"}') in keys
    assert ("logs", b"api") in keys
    assert ("changes", b"api") in keys
    assert ("alerts", b"a1b2") in keys
    assert [t for t, _, _ in records].count("metrics") == 2  # one array record per series
    assert ("dlq", b"http") in keys


def test_otlp_topics_are_off_by_default_and_named_in_the_worker_config() -> None:
    assert Topics().encoding_of("metrics") == "json"
    assert "otlp_metrics" not in Topics().detect_inputs()
    assert "" not in Topics().all_names()
    topics = config_from_dict({"topics": {"prefix": "p.", "otlp_metrics": "otlp_metrics"}}).topics
    assert topics.detect_inputs()["p.otlp_metrics"] is InputKind.METRICS
    assert topics.encoding_of("p.otlp_metrics") == "otlp_proto"
    assert "p.otlp_metrics" in topics.all_names()


def test_a_collector_otlp_proto_record_decodes_to_metric_points() -> None:
    reader = InMemoryMetricReader()
    resource = Resource.create({"service.name": "checkout", "k8s.namespace.name": "shop"})
    meter = MeterProvider(resource=resource, metric_readers=[reader]).get_meter("m")
    meter.create_counter("orders").add(7, {"region": "eu"})
    value = encode_metrics(reader.get_metrics_data()).SerializeToString()
    events, rejected = decode_batch(
        InputKind.METRICS, "otlp_metrics", 2, [FakeRecord(5, 0, value)], "otlp_proto"
    )
    assert rejected == []
    [point] = events
    assert isinstance(point, MetricPoint)
    assert (point.name, point.value) == ("orders", 7.0)
    assert point.labels == {"service": "checkout", "namespace": "shop", "region": "eu"}


def test_an_undecodable_otlp_record_is_a_dead_letter_with_its_coordinates() -> None:
    records = [FakeRecord(9, 0, b"\xff\xff"), FakeRecord(10, 0, None)]
    events, rejected = decode_batch(InputKind.LOGS, "otlp_logs", 1, records, "otlp_proto")
    assert events == []
    assert [(r.offset, r.partition, r.error.split(" (")[0]) for r in rejected] == [
        (9, 1, "not an OTLP ExportLogsServiceRequest"),
        (10, 1, "value: empty record"),
    ]
