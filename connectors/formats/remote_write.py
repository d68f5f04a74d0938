"""Prometheus remote write 1.0 (``prometheus.WriteRequest``, snappy block format) -> metrics.

What Prometheus, Grafana Agent/Alloy and the OpenTelemetry Collector's
``prometheusremotewrite`` exporter send to ``/api/v1/write``: a snappy-compressed (block
format, not framed) protobuf ``WriteRequest`` of time series, each a label set and samples
(``value`` float64, ``timestamp`` int64 milliseconds). The messages are the compiled
``prompb`` ones that ``opentelemetry-exporter-prometheus-remote-write`` ships.

Each sample becomes a ``MetricPoint`` named by ``__name__`` with the other labels as sent
(the engine's ``topology.node_labels`` decides which node they name). Staleness markers
(the NaN Prometheus writes when a series disappears) end a series; they are not samples and
are skipped, counted in ``DecodedWrite.stale``. Any other NaN or infinity, or a series without
``__name__``, is a dead letter with the reason. A body that is not snappy or not a
``WriteRequest`` is one dead letter holding the body.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Final

import cramjam
from google.protobuf.message import DecodeError

from engine.events import InputEvent, MetricPoint, Rejected
from engine.ingest.decode import Origin, serialise

STALE_NAN_BITS: Final = 0x7FF0000000000002
"""Prometheus' staleness marker: this exact NaN (``value.StaleNaN``)."""
_MAX_EPOCH_MS: Final = 1e14


@dataclass(slots=True)
class DecodedWrite:
    """The events and dead letters of one request, and how many stale markers it held."""

    events: list[InputEvent | Rejected] = field(default_factory=list)
    stale: int = 0


def snappy_length(body: bytes) -> int | None:
    """The uncompressed length a snappy block declares (its leading varint), or ``None``.

    >>> snappy_length(bytes(cramjam.snappy.compress_raw(b"x" * 300)))
    300
    """
    length, shift = 0, 0
    for i, byte in enumerate(body[:5]):
        length |= (byte & 0x7F) << shift
        if byte < 0x80:
            return length
        shift += 7
        if i == 4:
            return None
    return None


@cache
def write_request_class() -> Any:
    """``prometheus.WriteRequest``, imported on first use: the package that ships it imports
    ``requests`` and the OpenTelemetry SDK (a third of a second) when it is loaded, which every
    command that builds the HTTP server would otherwise pay at start."""
    from opentelemetry.exporter.prometheus_remote_write.gen import remote_pb2

    return remote_pb2.WriteRequest  # type: ignore[attr-defined]  # generated code, no stubs


def parse_write_request(body: bytes, max_bytes: int) -> Any:
    """The ``WriteRequest`` in a snappy block, or the reason it is not one (a ``str``)."""
    declared = snappy_length(body)
    if declared is None:
        return "not snappy block data (no length header)"
    if declared > max_bytes:
        return f"uncompressed size {declared} is over the limit of {max_bytes} bytes"
    try:
        raw = bytes(cramjam.snappy.decompress_raw(body))
    except cramjam.DecompressionError as exc:
        return f"not snappy block data ({exc})"
    request = write_request_class()()
    try:
        request.ParseFromString(raw)
    except DecodeError as exc:
        return f"not a remote write WriteRequest ({exc})"
    return request


def decode_remote_write(body: bytes, origin: Origin, max_bytes: int) -> DecodedWrite:
    """Decode one request body (see the module docstring)."""
    out = DecodedWrite()
    request = parse_write_request(body, max_bytes)
    if isinstance(request, str):
        out.events.append(Rejected(origin.source, request, body, origin.partition, origin.offset))
        return out
    append, pack = out.events.append, struct.Struct("<d").pack
    for series in request.timeseries:
        labels = {label.name: label.value for label in series.labels}
        name = labels.pop("__name__", "")
        if not name:
            append(_reject(origin, "__name__: required", "", labels, None, None))
            continue
        for sample in series.samples:
            value, ts_ms = sample.value, sample.timestamp
            if math.isfinite(value) and 0 <= ts_ms < _MAX_EPOCH_MS:
                append(MetricPoint(ts_ms / 1000.0, name, value, labels))
            elif int.from_bytes(pack(value), "little") == STALE_NAN_BITS:
                out.stale += 1
            elif not math.isfinite(value):
                append(_reject(origin, "value: not a finite number", name, labels, value, ts_ms))
            else:
                reason = "timestamp: out of range (milliseconds since 1970)"
                append(_reject(origin, reason, name, labels, value, ts_ms))
    return out


def _reject(
    origin: Origin,
    reason: str,
    name: str,
    labels: dict[str, str],
    value: float | None,
    ts_ms: int | None,
) -> Rejected:
    shown = None if value is None else repr(value)
    body = serialise({"name": name, "labels": labels, "value": shown, "timestamp_ms": ts_ms})
    got = "" if shown is None else f" (got {shown})"
    return Rejected(origin.source, reason + got, body, origin.partition, origin.offset)
