"""Fuzzing the decoders of other tools' formats (remote write, OTLP protobuf and JSON, GitHub
deployment events, Alertmanager v2 alerts): whatever the bytes, only events and dead letters
whose wire form encodes come out, never an exception. Inputs are random bytes and valid
library-built messages with bytes flipped or cut."""

from __future__ import annotations

from typing import Any

import cramjam
import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.exporter.prometheus_remote_write.gen.remote_pb2 import WriteRequest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from connectors.formats.github import decode_deployment_status
from connectors.formats.otlp import decode_logs, decode_metrics
from connectors.formats.remote_write import decode_remote_write
from connectors.http.amv2 import decode_postable_alerts
from engine.events import Change, LogRecord, MetricPoint, Rejected
from engine.ingest.decode import Origin
from engine.ingest.errors import FieldError

ORIGIN = Origin("fuzz", 0, 1, 1_764_115_200.0)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def accounted(events: list[Any], kinds: tuple[type, ...]) -> None:
    for event in events:
        assert isinstance(event, (*kinds, Rejected))
        if isinstance(event, Rejected):
            orjson.dumps(event.to_wire())
            assert event.error


def write_request() -> bytes:
    request = WriteRequest()
    ts = request.timeseries.add()
    ts.labels.add(name="__name__", value="up")
    ts.labels.add(name="instance", value="node-3:9100")
    ts.samples.add(value=1.0, timestamp=1_764_115_200_000)
    return request.SerializeToString()


def metrics_request() -> bytes:
    request = ExportMetricsServiceRequest()
    rm = request.resource_metrics.add()
    rm.resource.attributes.add(key="service.name").value.string_value = "api"
    metric = rm.scope_metrics.add().metrics.add(name="latency")
    point = metric.histogram.data_points.add(count=3, sum=1.5, time_unix_nano=1)
    point.attributes.add(key="route").value.int_value = 7
    return request.SerializeToString()


def logs_request() -> bytes:
    request = ExportLogsServiceRequest()
    rl = request.resource_logs.add()
    record = rl.scope_logs.add().log_records.add(severity_number=17, time_unix_nano=5)
    record.body.kvlist_value.values.add(key="a").value.string_value = "b"
    return request.SerializeToString()


@st.composite
def mutated(draw: st.DrawFn, valid: bytes) -> bytes:
    """``valid`` with up to four bytes replaced, then cut at a random length."""
    raw = bytearray(valid)
    for _ in range(draw(st.integers(1, 4))):
        raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
    return bytes(raw[: draw(st.integers(0, len(raw)))])


FUZZ = settings(max_examples=150, deadline=None)


@FUZZ
@given(body=st.binary(max_size=300) | mutated(write_request()))
def test_remote_write_never_raises(body: bytes) -> None:
    for candidate in (body, bytes(cramjam.snappy.compress_raw(body))):
        accounted(decode_remote_write(candidate, ORIGIN, 1 << 20).events, (MetricPoint,))


@FUZZ
@given(body=st.binary(max_size=300) | mutated(metrics_request()) | mutated(logs_request()))
def test_otlp_protobuf_never_raises(body: bytes) -> None:
    accounted(decode_metrics(body, ORIGIN).events, (MetricPoint,))
    accounted(decode_logs(body, ORIGIN).events, (LogRecord,))


@FUZZ
@given(value=json_values)
def test_otlp_json_never_raises(value: Any) -> None:
    shapes = [
        value,
        {"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "m", "gauge": value}]}]}]},
        {
            "resourceMetrics": [
                {"scopeMetrics": [{"metrics": [{"gauge": {"dataPoints": [value]}}]}]}
            ]
        },
        {"resourceLogs": [{"resource": value, "scopeLogs": [{"logRecords": [value]}]}]},
    ]
    for shape in shapes:
        body = orjson.dumps(shape)
        accounted(decode_metrics(body, ORIGIN, "json").events, (MetricPoint,))
        accounted(decode_logs(body, ORIGIN, "json").events, (LogRecord,))


@FUZZ
@given(value=json_values, where=st.sampled_from(["deployment_status", "deployment", "repository"]))
def test_github_events_decode_or_raise_field_errors_only(value: Any, where: str) -> None:
    event: dict[str, Any] = {
        "deployment_status": {"state": "success", "created_at": "2019-05-15T15:20:55Z"},
        "deployment": {"sha": "f95f852bd8fc", "ref": "main"},
        "repository": {"name": "app", "full_name": "o/app"},
    }
    event[where] = value
    try:
        change = decode_deployment_status(event, None)
    except FieldError as error:  # the route turns it into a dead letter with this reason
        reason = error.reason
    else:
        reason = "decoded"
        assert isinstance(change, Change)
    assert reason


@FUZZ
@given(value=json_values)
def test_alertmanager_v2_never_raises(value: Any) -> None:
    for payload in (value, [value], [{"labels": {"alertname": "A"}, "endsAt": value}]):
        for event in decode_postable_alerts(payload, 1_764_115_200.0):
            if isinstance(event, Rejected):
                orjson.dumps(event.to_wire())
