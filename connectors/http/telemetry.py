"""Metrics and logs from Prometheus and OpenTelemetry: remote write and OTLP/HTTP routes.

* ``POST /api/v1/write``: Prometheus remote write 1.0 (``Content-Encoding: snappy``,
  ``Content-Type: application/x-protobuf``, ``X-Prometheus-Remote-Write-Version: 0.1.0``);
  decoded by ``connectors.formats.remote_write``. 204 once the runtime took the samples; 400
  for a body that is not a snappy ``WriteRequest``; 415 for remote write 2.0 (what the 2.0
  specification asks of a receiver without it) or another encoding.
* ``POST /v1/metrics``, ``POST /v1/logs``: OTLP/HTTP, ``application/x-protobuf`` or
  ``application/json``, optionally gzip; decoded by ``connectors.formats.otlp``. 200 with the
  export response in the request's encoding, carrying ``partial_success`` (how many points or
  records were rejected and the first reason) when some were dead letters; 400 for a body
  that is not the message; 415 for another content type.

All need the bearer token (Prometheus: ``authorization: {credentials: ...}``; the Collector's
``otlphttp`` exporter: ``headers: {Authorization: "Bearer ..."}``), and answer 503 +
``Retry-After`` when the runtime cannot take the events now: both senders retry it.
"""

from __future__ import annotations

from typing import Final

from aiohttp import web
from google.protobuf import json_format
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsPartialSuccess,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsPartialSuccess,
    ExportMetricsServiceResponse,
)

from connectors.formats import otlp
from connectors.formats.remote_write import decode_remote_write
from connectors.http.accept import (
    Handed,
    hand_over,
    json_response,
    not_taken_response,
    read_ingest_body,
    refused_response,
)
from connectors.http.ingest import Decoded
from connectors.http.limits import RequestRefusedError
from connectors.http.state import APP_STATE, received_at
from engine.events import Rejected
from engine.ingest.decode import Origin

WRITE_SOURCE: Final = "http:remote-write"
PROTOBUF: Final = "application/x-protobuf"


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/write", post_remote_write)
    app.router.add_post("/v1/metrics", post_otlp_metrics)
    app.router.add_post("/v1/logs", post_otlp_logs)


def _remote_write_refusal(request: web.Request) -> RequestRefusedError | None:
    encoding = request.headers.get("Content-Encoding", "snappy").strip().lower()
    if encoding != "snappy":
        return RequestRefusedError(415, f"Content-Encoding {encoding!r}: remote write is snappy")
    content_type = request.headers.get("Content-Type", PROTOBUF).lower()
    if "io.prometheus.write.v2" in content_type:
        return RequestRefusedError(415, "remote write 2.0 is not supported: send 1.0")
    if not content_type.startswith(PROTOBUF):
        return RequestRefusedError(415, f"Content-Type {content_type!r}: expected {PROTOBUF}")
    return None


async def post_remote_write(request: web.Request) -> web.Response:
    state = request.app[APP_STATE]
    try:
        refusal = _remote_write_refusal(request)
        if refusal is not None:
            raise refusal
        body = await read_ingest_body(request, state, raw=True)
    except RequestRefusedError as exc:
        return refused_response(exc)
    origin = Origin(WRITE_SOURCE, timestamp=received_at(state))
    decoded = decode_remote_write(body, origin, state.limits.max_ingest_body_bytes)
    handed = await hand_over(state, decoded.events, WRITE_SOURCE)
    if not handed.ok:
        return not_taken_response(state)
    if _whole_body_rejected(decoded.events, body):
        return json_response({"error": handed.errors[0]}, 400)
    return web.Response(status=204)


def _whole_body_rejected(events: list[Decoded], body: bytes) -> bool:
    """The request was one dead letter holding the body: it did not decode at all."""
    return len(events) == 1 and isinstance(events[0], Rejected) and events[0].value is body


def _otlp_encoding(request: web.Request) -> otlp.Encoding:
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type == PROTOBUF:
        return "protobuf"
    if content_type == "application/json":
        return "json"
    raise RequestRefusedError(
        415, f"Content-Type {content_type!r}: expected {PROTOBUF} or application/json"
    )


async def post_otlp_metrics(request: web.Request) -> web.Response:
    return await _post_otlp(request, "metrics")


async def post_otlp_logs(request: web.Request) -> web.Response:
    return await _post_otlp(request, "logs")


async def _post_otlp(request: web.Request, signal: str) -> web.Response:
    state = request.app[APP_STATE]
    try:
        encoding = _otlp_encoding(request)
        body = await read_ingest_body(request, state)
    except RequestRefusedError as exc:
        return refused_response(exc)
    source = f"http:otlp-{signal}"
    origin = Origin(source, timestamp=received_at(state))
    decode = otlp.decode_metrics if signal == "metrics" else otlp.decode_logs
    decoded = decode(body, origin, encoding)
    handed = await hand_over(state, decoded.events, source)
    if not handed.ok:
        return not_taken_response(state)
    if _whole_body_rejected(decoded.events, body):
        return json_response({"error": handed.errors[0]}, 400)
    return _otlp_answer(_export_response(signal, handed), encoding)


def _export_response(signal: str, handed: Handed) -> Message:
    reason = handed.errors[0] if handed.errors else ""
    if signal == "metrics":
        if not handed.rejected:
            return ExportMetricsServiceResponse()
        partial = ExportMetricsPartialSuccess(
            rejected_data_points=handed.rejected, error_message=reason
        )
        return ExportMetricsServiceResponse(partial_success=partial)
    if not handed.rejected:
        return ExportLogsServiceResponse()
    logs = ExportLogsPartialSuccess(rejected_log_records=handed.rejected, error_message=reason)
    return ExportLogsServiceResponse(partial_success=logs)


def _otlp_answer(message: Message, encoding: otlp.Encoding) -> web.Response:
    if encoding == "json":
        text = json_format.MessageToJson(message, indent=None)
        return web.Response(body=text.encode(), content_type="application/json")
    return web.Response(body=message.SerializeToString(), content_type=PROTOBUF)
