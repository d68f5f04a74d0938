"""Input partitions' record values -> typed events and dead letters, per batch (the hot path).

``decode_batch`` gives exactly what ``engine.ingest.decode.decode_record`` gives for each
record (a unit test compares them); it only takes shorter ways for the common shapes:

* metrics: a record is parsed once (an array of points too: each element is taken as
  ``decode_object`` takes it); an object whose ``ts`` is a float epoch second in range,
  ``name`` a non-empty string, ``value`` a finite float and ``labels`` a map of strings (what
  producers send, and everything ``decode_metric`` accepts unchanged) becomes a
  ``MetricPoint`` at once, without the field readers' calls (a third of the decoding time);
* metrics, logs, predictions, labels: any other one-object record goes to the kind's decoder
  without building an ``Origin``;
* anything else (other arrays, text, invalid JSON, a field error) takes ``decode_record``, which
  says why it rejects a record.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import isfinite
from typing import Any, Protocol

import orjson

from connectors.formats import otlp
from connectors.kafka.config import RecordEncoding
from engine.events import InputEvent, InputKind, MetricPoint, Rejected
from engine.ingest.decode import DECODERS, Origin, decode_object, decode_record
from engine.ingest.errors import FieldError
from engine.ingest.records import decode_metric
from engine.ingest.timestamps import MAX_EPOCH_S

FAST_KINDS = frozenset({InputKind.METRICS, InputKind.LOGS, InputKind.PREDICTIONS, InputKind.LABELS})
"""Kinds whose one-object records ``decode_batch`` hands straight to the kind's decoder
(exactly what ``decode_record`` does for them); anything else takes the general path."""


class Record(Protocol):
    """The fields of an aiokafka ``ConsumerRecord`` a task reads."""

    offset: int
    timestamp: int
    value: bytes | None


def decode_batch(
    kind: InputKind,
    topic: str,
    partition: int,
    records: Sequence[Record],
    encoding: RecordEncoding = "json",
) -> tuple[list[InputEvent], list[Rejected]]:
    """Decode records into events and dead letters (each carrying topic, partition, offset).

    ``encoding`` ``otlp_proto``: each record is an OTLP export request as the OpenTelemetry
    Collector's Kafka exporter writes it (``connectors.formats.otlp``; metrics or logs)."""
    if encoding == "otlp_proto":
        return _decode_otlp(kind, topic, partition, records)
    if kind is InputKind.METRICS:
        return _decode_metrics(topic, partition, records)
    events: list[InputEvent] = []
    rejected: list[Rejected] = []
    for r in records:
        _decode_one(kind, topic, partition, r, events, rejected)
    return events, rejected


def _decode_metrics(
    topic: str, partition: int, records: Sequence[Record]
) -> tuple[list[InputEvent], list[Rejected]]:
    events: list[InputEvent] = []
    rejected: list[Rejected] = []
    loads, point_of, append = orjson.loads, _point, events.append
    for r in records:
        try:
            obj = loads(r.value)  # type: ignore[arg-type]  # None raises: general path
        except (orjson.JSONDecodeError, TypeError):
            obj = None
        if type(obj) is dict:
            point = point_of(obj)
            try:  # other shapes (an int ts, labels missing...): the decoder, parsed once
                append(point if point is not None else decode_metric(obj, r.timestamp / 1000.0))
                continue
            except FieldError:
                pass  # _decode_one re-decodes and says why
        elif type(obj) is list:  # a batch: parsed once, each element as decode_object does
            origin = Origin(topic, partition, r.offset, r.timestamp / 1000.0)
            for element in obj:
                point = point_of(element) if type(element) is dict else None
                if point is not None:
                    append(point)
                else:
                    _route(decode_object(InputKind.METRICS, [element], origin), events, rejected)
            continue
        _decode_one(InputKind.METRICS, topic, partition, r, events, rejected)
    return events, rejected


def _decode_otlp(
    kind: InputKind, topic: str, partition: int, records: Sequence[Record]
) -> tuple[list[InputEvent], list[Rejected]]:
    decode = otlp.decode_metrics if kind is InputKind.METRICS else otlp.decode_logs
    events: list[InputEvent] = []
    rejected: list[Rejected] = []
    for r in records:
        if r.value is None:
            rejected.append(Rejected(topic, "value: empty record", b"", partition, r.offset))
            continue
        origin = Origin(topic, partition, r.offset, r.timestamp / 1000.0)
        _route(decode(r.value, origin).events, events, rejected)
    return events, rejected


def _point(obj: dict[str, object]) -> MetricPoint | None:
    """The point ``decode_metric`` makes of ``obj`` when it has the common shape, else None."""
    ts, name, value, labels = obj.get("ts"), obj.get("name"), obj.get("value"), obj.get("labels")
    if (
        type(ts) is float
        and 0.0 <= ts < MAX_EPOCH_S
        and type(name) is str
        and name
        and type(value) is float
        and isfinite(value)
        and type(labels) is dict
    ):
        for label in labels.values():
            if type(label) is not str:
                return None
        return MetricPoint(ts, name, value, labels)
    return None


def _route(decoded: list[Any], events: list[InputEvent], rejected: list[Rejected]) -> None:
    for e in decoded:
        if type(e) is Rejected:
            rejected.append(e)
        else:
            events.append(e)


def _decode_one(
    kind: InputKind,
    topic: str,
    partition: int,
    r: Record,
    events: list[InputEvent],
    rejected: list[Rejected],
) -> None:
    raw = r.value
    if raw is None:
        rejected.append(Rejected(topic, "value: empty record", b"", partition, r.offset))
        return
    if kind in FAST_KINDS:  # one JSON object per record: no Origin built
        try:
            obj = orjson.loads(raw)
            if type(obj) is dict:
                events.append(DECODERS[kind](obj, r.timestamp / 1000.0))
                return
        except (orjson.JSONDecodeError, FieldError):
            pass  # decode_record below re-decodes and says why
    origin = Origin(topic, partition, r.offset, r.timestamp / 1000.0)
    _route(decode_record(kind, raw, origin), events, rejected)
