"""The console's routes on Vigil's HTTP server: the page at ``/`` and the JSON it needs.

``mount_console(app_state, recorder)`` makes any runtime (embedded replay, Kafka worker) serve
the console: it points ``static_dir`` at the page and adds these routes:

* ``GET /api/v1/console/incidents`` — incidents newest first, each with top cause, alert
  count, services, label pairs and acknowledgement; ``now`` is the newest event time seen.
* ``GET /api/v1/incidents/{id}/detail`` — everything the incident page shows (``detail``).
* ``POST /api/v1/incidents/{id}/ack`` — acknowledge (bearer token, like every write);
  body ``{"by": "ana", "comment": "..."}`` (both optional). With an ``acks`` port (worker
  mode: ``connectors.kafka.control``) the acknowledgement is persisted first (503 if that
  fails); it is then pushed over the event stream as ``event: ack``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Final

import orjson
from aiohttp import web

from connectors.console.detail import incident_detail, incident_summary
from connectors.console.recorder import Acknowledgement, ConsoleRecorder
from connectors.errors import ConnectorError
from connectors.http.auth import bearer_matches
from connectors.http.limits import RequestRefusedError, parse_json, read_body
from connectors.http.state import APP_STATE, AppState
from connectors.http.stream import publish_ack
from engine.events import JsonValue

STATIC_DIR: Final = Path(__file__).parent / "static"
RECORDER: Final = web.AppKey("vigil_console", ConsoleRecorder)
PersistAck = Callable[[Acknowledgement], Awaitable[None]]
ACKS: Final[web.AppKey[PersistAck]] = web.AppKey("vigil_console_acks")
MAX_LISTED: Final = 500


def mount_console(
    app_state: AppState, recorder: ConsoleRecorder, acks: PersistAck | None = None
) -> None:
    """Serve the console from ``app_state``'s server (call before the server starts)."""
    app_state.static_dir = STATIC_DIR

    def add_routes(app: web.Application) -> None:
        app[RECORDER] = recorder
        if acks is not None:
            app[ACKS] = acks
        app.router.add_get("/api/v1/console/incidents", list_incidents)
        app.router.add_get("/api/v1/incidents/{id}/detail", get_detail)
        app.router.add_post("/api/v1/incidents/{id}/ack", post_ack)

    app_state.extra_routes.append(add_routes)


def _json(body: JsonValue, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def _state(request: web.Request) -> AppState:
    return request.app[APP_STATE]


async def list_incidents(request: web.Request) -> web.Response:
    recorder = request.app[RECORDER]
    found = _state(request).incidents.list(limit=MAX_LISTED)
    rows: list[JsonValue] = [incident_summary(recorder, i) for i in found]
    return _json({"now": recorder.watermark, "incidents": rows})


async def get_detail(request: web.Request) -> web.Response:
    incident = _state(request).incidents.get(request.match_info["id"])
    if incident is None:
        return _json({"error": "no such incident"}, 404)
    return _json(incident_detail(request.app[RECORDER], incident))


async def post_ack(request: web.Request) -> web.Response:
    state = _state(request)
    try:
        if not bearer_matches(request.headers.get("Authorization"), state.token):
            raise RequestRefusedError(401, "missing or wrong bearer token")
        raw = await read_body(request, state.limits.max_body_bytes, state.limits.body_timeout)
        body = parse_json(raw, state.limits.max_json_depth) if raw.strip() else {}
    except RequestRefusedError as exc:
        return _json({"error": exc.reason}, exc.status)
    incident_id = request.match_info["id"]
    if state.incidents.get(incident_id) is None:
        return _json({"error": "no such incident"}, 404)
    by = body.get("by", "") if isinstance(body, dict) else None
    comment = body.get("comment", "") if isinstance(body, dict) else None
    if not isinstance(by, str) or not isinstance(comment, str):
        return _json({"error": 'body: expected {"by": string, "comment": string}'}, 400)
    ack = Acknowledgement(incident_id, by[:200] or "console", time.time(), comment[:2000])
    persist = request.app.get(ACKS)
    if persist is not None:
        try:
            await persist(ack)
        except ConnectorError as exc:
            return _json({"error": str(exc)}, 503)
    request.app[RECORDER].acknowledge(ack)
    publish_ack(state, incident_id, ack.to_wire())
    return _json({"incident": incident_id, "ack": ack.to_wire()})
