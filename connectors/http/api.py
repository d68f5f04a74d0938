"""Routes of the HTTP API (everything but the event stream and static files).

Read endpoints are open; write endpoints need ``Authorization: Bearer <token>``. Every refusal
is a JSON ``{"error": reason}``: 401 missing/wrong token, 413 body or alert count over the
limit, 400 unreadable JSON or a payload without one valid alert; 503 + ``Retry-After`` when the
fault is ours or temporary (the runtime cannot take the alerts now, a body too slow to arrive).
The other ingest endpoints (Alertmanager v2, remote write, OTLP, changes) are in ``amv2``,
``telemetry`` and ``changes``.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

import orjson
from aiohttp import web

from connectors.errors import ConnectorError
from connectors.http.accept import hand_over, not_taken_response, read_ingest_body, refused_response
from connectors.http.auth import bearer_matches
from connectors.http.ingest import Decoded
from connectors.http.limits import RequestRefusedError, count_alerts, parse_json, read_body
from connectors.http.silences import parse_silence_request
from connectors.http.state import APP_STATE, AppState, received_at
from engine.events import IncidentStatus, InputKind, JsonValue

T = TypeVar("T")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/metrics", get_metrics)
    app.router.add_get("/healthz", get_health)
    app.router.add_get("/readyz", get_ready)
    app.router.add_post("/api/v1/alerts", post_alerts)
    app.router.add_get("/api/v1/incidents", list_incidents)
    app.router.add_get("/api/v1/incidents/{id}", get_incident)
    app.router.add_get("/api/v1/models", list_models)
    app.router.add_get("/api/v1/silences", list_silences)
    app.router.add_post("/api/v1/silences", post_silence)
    app.router.add_delete("/api/v1/silences/{id}", delete_silence)


def _state(request: web.Request) -> AppState:
    return request.app[APP_STATE]


def _json(body: object, status: int = 200, **headers: str) -> web.Response:
    return web.Response(
        body=orjson.dumps(body), status=status, content_type="application/json", headers=headers
    )


def _refused(exc: RequestRefusedError) -> web.Response:
    return _json({"error": exc.reason}, exc.status)


async def get_metrics(request: web.Request) -> web.Response:
    body, content_type = _state(request).metrics.render()
    return web.Response(body=body, headers={"Content-Type": content_type})


async def get_health(request: web.Request) -> web.Response:
    return _json({"status": "ok"})


async def get_ready(request: web.Request) -> web.Response:
    ready = bool(_state(request).ready)
    return _json({"ready": ready}, 200 if ready else 503)


async def _read_write_request(request: web.Request) -> tuple[Any, bytes]:
    """Auth, size and JSON checks shared by the write endpoints: ``(parsed, raw body)``."""
    state = _state(request)
    if not bearer_matches(request.headers.get("Authorization"), state.token):
        raise RequestRefusedError(401, "missing or wrong bearer token")
    body = await read_body(request, state.limits.max_body_bytes, state.limits.body_timeout)
    return parse_json(body, state.limits.max_json_depth), body


async def post_alerts(request: web.Request) -> web.Response:
    """Alertmanager webhook v4 payloads (or single alerts / arrays of them) into the pipeline.

    A large notification is taken whole (``max_ingest_body_bytes``, ``max_alerts_per_request``)
    and handed to the runtime in batches (``connectors.http.accept``); when the runtime cannot
    take it now the answer is 503, which Alertmanager retries."""
    state = _state(request)
    try:
        raw = await read_ingest_body(request, state)
        payload = parse_json(raw, state.limits.max_json_depth)
        n_alerts = count_alerts(payload)
        if n_alerts > state.limits.max_alerts_per_request:
            limit = state.limits.max_alerts_per_request
            raise RequestRefusedError(413, f"{n_alerts} alerts is over the limit of {limit}")
    except RequestRefusedError as exc:
        return refused_response(exc)
    decode = state.decode_alerts or _default_decoder()
    if decode is None:
        return _json({"error": "alert decoding is not available"}, 503, **{"Retry-After": "10"})
    events: list[Decoded] = decode(payload, raw, received_at(state))
    handed = await hand_over(state, events, "http:alerts")
    if not handed.ok:
        return not_taken_response(state)
    errors: list[JsonValue] = list(handed.errors)
    if handed.accepted == 0 and handed.rejected:
        return _json({"error": "no valid alert in the payload", "errors": errors}, 400)
    return _json({"accepted": handed.accepted, "rejected": handed.rejected, "errors": errors}, 202)


def _default_decoder() -> Any:
    try:
        from engine.ingest.decode import Origin, decode_object
    except ImportError:  # the decoder module is not in this build yet
        return None

    def decode(payload: Any, raw: bytes, at: float | None) -> list[Decoded]:
        origin = Origin("http:alerts", None, None, at)
        return list(decode_object(InputKind.ALERTS, payload, origin, raw))

    return decode


async def list_incidents(request: web.Request) -> web.Response:
    status_text = request.query.get("status")
    try:
        status = IncidentStatus(status_text) if status_text else None
        limit = int(request.query.get("limit", "100"))
        if not 1 <= limit <= 10_000:
            raise ValueError(limit)
    except ValueError:
        return _json({"error": "status must be open/updated/resolved; limit 1..10000"}, 400)
    found = _state(request).incidents.list(status, limit)
    return _json({"incidents": [i.to_wire() for i in found]})


async def get_incident(request: web.Request) -> web.Response:
    incident = _state(request).incidents.get(request.match_info["id"])
    if incident is None:
        return _json({"error": "no such incident"}, 404)
    return _json(incident.to_wire())


async def list_models(request: web.Request) -> web.Response:
    """Each model's latest performance checks: status (ok, breach, insufficient_labels), value,
    bounds, labels (``connectors.model_metrics``)."""
    return _json({"models": _state(request).metrics.models.snapshot})


async def list_silences(request: web.Request) -> web.Response:
    return _json({"silences": _state(request).silences.list_silences(time.time())})


async def post_silence(request: web.Request) -> web.Response:
    try:
        body, _ = await _read_write_request(request)
        max_s = _state(request).limits.max_silence_duration
        silence_request = parse_silence_request(body, time.time(), max_s)
        created = await _settled(_state(request).silences.add_silence(silence_request))
    except RequestRefusedError as exc:
        return _refused(exc)
    except ValueError as exc:
        return _json({"error": str(exc)}, 400)
    except ConnectorError as exc:  # the store could not write (worker mode: the broker)
        return _json({"error": str(exc)}, 503, **{"Retry-After": "1"})
    return _json(created, 201)


async def delete_silence(request: web.Request) -> web.Response:
    state = _state(request)
    if not bearer_matches(request.headers.get("Authorization"), state.token):
        return _json({"error": "missing or wrong bearer token"}, 401)
    try:
        silence_id = request.match_info["id"]
        expired = await _settled(state.silences.expire_silence(silence_id, time.time()))
    except ConnectorError as exc:
        return _json({"error": str(exc)}, 503, **{"Retry-After": "1"})
    if not expired:
        return _json({"error": "no such silence"}, 404)
    return _json({"expired": request.match_info["id"]})


async def _settled(value: T | Awaitable[T]) -> T:
    """The store's answer, awaited if the store is asynchronous."""
    if inspect.isawaitable(value):
        return await value
    return value
