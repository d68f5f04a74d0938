"""JSON ingest routes for every input kind besides alerts: ``POST /api/v1/<kind>``.

``kind`` is ``metrics``, ``logs``, ``predictions``, ``labels``, ``changes`` or ``topology``;
the body is one record of docs/events.md, a JSON array of them, or JSON Lines (one record a
line, as in a replay folder's files; sent as ``application/x-ndjson`` or
``application/jsonl``). A record without ``ts`` takes the time it was received. Records are
decoded here and handed to the ``Ingest`` port (``connectors.http.ingest``) with their dead
letters. Answers: 202 ``{"accepted", "rejected", "errors"}``; 400 when no record is valid;
401/408/413/415 as every write endpoint (``connectors.http.api``); 503 + ``Retry-After`` when
the runtime cannot take the batch now (full backlog, disk error), so the client retries.

Mounted by ``vigil serve`` (``add_input_routes``); a runtime without an ingest for these kinds
does not mount them (404).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web

from connectors.http.api import MAX_ERRORS_SHOWN, _json, _refused
from connectors.http.auth import bearer_matches
from connectors.http.ingest import Decoded
from connectors.http.limits import RequestRefusedError, parse_json, read_body
from connectors.http.state import APP_STATE
from engine.events import InputKind, JsonValue, Rejected
from engine.ingest.decode import Origin, decode_object, decode_record

JSON_KINDS: Final = tuple(k for k in InputKind if k is not InputKind.ALERTS)
LINE_TYPES: Final = ("application/x-ndjson", "application/jsonl", "application/json-lines")


def add_input_routes(app: web.Application) -> None:
    """``POST /api/v1/<kind>`` for every kind in ``JSON_KINDS`` that no other module of the
    API serves already (the routes every runtime has are mounted first)."""
    taken = {
        route.resource.canonical
        for route in app.router.routes()
        if route.method == "POST" and route.resource is not None
    }
    for kind in JSON_KINDS:
        path = f"/api/v1/{kind.value}"
        if path not in taken:
            app.router.add_post(path, _handler(kind))


def _handler(kind: InputKind) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def post_records(request: web.Request) -> web.Response:
        try:
            events = await _decoded(request, kind)
        except RequestRefusedError as exc:
            return _refused(exc)
        return await _ingest(request, kind, events)

    return post_records


async def _decoded(request: web.Request, kind: InputKind) -> list[Decoded]:
    state = request.app[APP_STATE]
    if not bearer_matches(request.headers.get("Authorization"), state.token):
        raise RequestRefusedError(401, "missing or wrong bearer token")
    body = await read_body(request, state.limits.max_body_bytes, state.limits.body_timeout)
    origin = Origin(f"http:{kind.value}", timestamp=time.time())
    if request.content_type not in LINE_TYPES:
        payload = parse_json(body, state.limits.max_json_depth)
        return list(decode_object(kind, payload, origin, body))
    out: list[Decoded] = []
    for number, line in enumerate(body.splitlines(), start=1):
        if line.strip():
            at = Origin(origin.source, None, number, origin.timestamp)
            out.extend(decode_record(kind, line, at))
    return out


async def _ingest(request: web.Request, kind: InputKind, events: list[Decoded]) -> web.Response:
    state = request.app[APP_STATE]
    rejected = [e for e in events if isinstance(e, Rejected)]
    for reject in rejected:
        state.metrics.count_dead_letter(reject.error)
    if not events:
        return _json({"error": "no record in the body"}, 400)
    if state.ingest is None or not await state.ingest(events):
        return _json({"error": "busy: retry later"}, 503, **{"Retry-After": "1"})
    state.metrics.records_in.labels(topic=f"http:{kind.value}").inc(len(events))
    accepted = len(events) - len(rejected)
    errors: list[JsonValue] = [r.error for r in rejected[:MAX_ERRORS_SHOWN]]
    if accepted == 0:
        return _json({"error": "no valid record in the body", "errors": errors}, 400)
    return _json({"accepted": accepted, "rejected": len(rejected), "errors": errors}, 202)
