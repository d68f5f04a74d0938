"""OTLP metrics and logs (``opentelemetry-proto`` messages, protobuf or JSON) -> events.

The bodies of OTLP/HTTP ``/v1/metrics`` and ``/v1/logs`` (``ExportMetricsServiceRequest``,
``ExportLogsServiceRequest``; ``application/x-protobuf`` or the OTLP JSON mapping), and the
record values the OpenTelemetry Collector's Kafka exporter writes with ``encoding:
otlp_proto`` (the same messages). Labels: ``connectors.formats.labels``.

Metrics, per data point (time ``time_unix_nano``):

* gauge and sum: one ``MetricPoint`` named after the metric (``as_double`` or ``as_int``);
  sums are taken as sent (a cumulative sum is a counter, as in Prometheus);
* histogram and exponential histogram: ``<name>_count`` and, when set, ``<name>_sum``;
* summary: ``<name>_count``, ``<name>_sum`` and one ``<name>`` point per quantile with label
  ``quantile``.

A point flagged "no recorded value" is skipped (``DecodedOtlp.skipped``); a non-finite value
is a dead letter. Logs: one ``LogRecord`` per record; ``message`` is the body (a string, or
the text of another value), level from ``severity_number`` (1-4 TRACE ... 21-24 FATAL) or
else ``severity_text``, time ``time_unix_nano`` or else ``observed_time_unix_nano`` or else
the time received; labels are the resource's only (record attributes such as trace ids would
split a service's logs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from connectors.formats import otlp_json
from connectors.formats.labels import attribute_text, resource_labels, with_attributes
from engine.events import InputEvent, Level, LogRecord, MetricPoint, Rejected
from engine.ingest.decode import Origin, serialise
from engine.ingest.records import LEVELS

Encoding = Literal["protobuf", "json"]
NO_RECORDED_VALUE: Final = 1
_LEVEL_OF_SEVERITY: Final = (Level.TRACE, Level.DEBUG, Level.INFO, Level.WARN, Level.ERROR)


@dataclass(slots=True)
class DecodedOtlp:
    """Events and dead letters of one request or record; ``skipped``: points without value."""

    events: list[InputEvent | Rejected] = field(default_factory=list)
    skipped: int = 0


def parse(body: bytes, message: Message) -> str | None:
    """Fill ``message`` from protobuf ``body``; the reason it could not, or ``None``."""
    try:
        message.ParseFromString(body)
    except DecodeError as exc:
        return f"not an OTLP {type(message).__name__} (protobuf: {str(exc)[:200]})"
    return None


def decode_metrics(body: bytes, origin: Origin, encoding: Encoding = "protobuf") -> DecodedOtlp:
    """Events of an ``ExportMetricsServiceRequest`` (JSON: ``connectors.formats.otlp_json``)."""
    if encoding == "json":
        events, skipped = otlp_json.metric_events(body, origin)
        return DecodedOtlp(list(events), skipped)
    out, request = DecodedOtlp(), ExportMetricsServiceRequest()
    reason = parse(body, request)
    if reason is not None:
        out.events.append(Rejected(origin.source, reason, body, origin.partition, origin.offset))
        return out
    for resource_metrics in request.resource_metrics:
        base = resource_labels(resource_metrics.resource.attributes)
        for scope in resource_metrics.scope_metrics:
            for metric in scope.metrics:
                _decode_metric(metric, base, origin, out)
    return out


def _decode_metric(metric: Any, base: dict[str, str], origin: Origin, out: DecodedOtlp) -> None:
    kind, name = metric.WhichOneof("data"), metric.name
    if kind in ("gauge", "sum"):
        for point in getattr(metric, kind).data_points:
            value = point.as_double if point.WhichOneof("value") == "as_double" else point.as_int
            _emit(out, origin, name, float(value), point, base)
    elif kind in ("histogram", "exponential_histogram"):
        for point in getattr(metric, kind).data_points:
            _emit(out, origin, f"{name}_count", float(point.count), point, base)
            if point.HasField("sum"):
                _emit(out, origin, f"{name}_sum", point.sum, point, base)
    elif kind == "summary":
        for point in metric.summary.data_points:
            _emit(out, origin, f"{name}_count", float(point.count), point, base)
            _emit(out, origin, f"{name}_sum", point.sum, point, base)
            for q in point.quantile_values:
                _emit(out, origin, name, q.value, point, base, {"quantile": repr(q.quantile)})


def _emit(
    out: DecodedOtlp,
    origin: Origin,
    name: str,
    value: float,
    point: Any,
    base: dict[str, str],
    extra: dict[str, str] | None = None,
) -> None:
    if point.flags & NO_RECORDED_VALUE:
        out.skipped += 1
        return
    labels = with_attributes(base, point.attributes)
    if extra:
        labels.update(extra)
    ts = point.time_unix_nano / 1e9
    if math.isfinite(value) and name:
        out.events.append(MetricPoint(ts, name, value, labels))
        return
    reason = "name: required" if not name else f"value: not a finite number (got {value!r})"
    body = serialise({"name": name, "labels": labels, "value": repr(value), "ts": ts})
    out.events.append(Rejected(origin.source, reason, body, origin.partition, origin.offset))


def decode_logs(body: bytes, origin: Origin, encoding: Encoding = "protobuf") -> DecodedOtlp:
    """Events of an ``ExportLogsServiceRequest`` (JSON: ``connectors.formats.otlp_json``)."""
    if encoding == "json":
        return DecodedOtlp(list(otlp_json.log_events(body, origin)))
    out, request = DecodedOtlp(), ExportLogsServiceRequest()
    reason = parse(body, request)
    if reason is not None:
        out.events.append(Rejected(origin.source, reason, body, origin.partition, origin.offset))
        return out
    fallback = origin.timestamp
    for resource_logs in request.resource_logs:
        labels = resource_labels(resource_logs.resource.attributes)
        for scope in resource_logs.scope_logs:
            out.events.extend(_log(record, labels, fallback) for record in scope.log_records)
    return out


def _log(record: Any, labels: dict[str, str], fallback: float | None) -> LogRecord:
    nanos = record.time_unix_nano or record.observed_time_unix_nano
    ts = nanos / 1e9 if nanos else (fallback or 0.0)
    return LogRecord(ts, _message(record.body), level_of(record), labels)


def _message(body: Any) -> str:
    if body.WhichOneof("value") == "string_value":
        return str(body.string_value)
    text = attribute_text(body)
    if text is not None:
        return text
    if body.WhichOneof("value") is None:
        return ""
    as_dict = json_format.MessageToDict(body)  # {"kvlistValue": {...}}: the value, as JSON
    return orjson.dumps(next(iter(as_dict.values()))).decode()


def level_of(record: Any) -> Level:
    """The level of a log record: ``severity_number`` ranges, else ``severity_text``, else INFO.

    >>> from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord as Otlp
    >>> level_of(Otlp(severity_number=17)), level_of(Otlp(severity_text="warning"))
    (<Level.ERROR: 4>, <Level.WARN: 3>)
    """
    number = int(record.severity_number)
    if 1 <= number <= 20:
        return _LEVEL_OF_SEVERITY[(number - 1) // 4]
    if number > 20:
        return Level.FATAL
    return LEVELS.get(record.severity_text.strip().upper(), Level.INFO)
