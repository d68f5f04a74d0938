"""JSON ingest routes for every input kind besides alerts: ``POST /api/v1/<kind>``.

``kind`` is ``metrics``, ``logs``, ``predictions``, ``labels``, ``changes`` or ``topology``;
the body is one record of docs/events.md, a JSON array of them, or JSON Lines (one record a
line, as in a replay folder's files; sent as ``application/x-ndjson`` or
``application/jsonl``). A record without ``ts`` takes the time it was received. Records are
decoded here and handed to the ``Ingest`` port (``connectors.http.ingest``) with their dead
letters, as every ingest endpoint does (``connectors.http.accept``). Answers: 202
``{"accepted", "rejected", "errors"}``; 400 when no record is valid; 401/413/415 as every
ingest endpoint; 503 + ``Retry-After`` when the runtime cannot take the batch now (full
backlog, disk error) or the body is too slow to arrive, so the client retries.

Mounted by ``vigil serve`` (``add_input_routes``); a runtime without an ingest for these kinds
does not mount them (404).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web

from connectors.http.accept import (
    hand_over,
    json_response,
    not_taken_response,
    read_ingest_body,
    refused_response,
)
from connectors.http.ingest import Decoded
from connectors.http.limits import RequestRefusedError, parse_json
from connectors.http.state import APP_STATE, received_at
from engine.events import InputKind
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
    source = f"http:{kind.value}"

    async def post_records(request: web.Request) -> web.Response:
        state = request.app[APP_STATE]
        try:
            body = await read_ingest_body(request, state)
            events = _decoded(request, kind, body, state.limits.max_json_depth)
        except RequestRefusedError as exc:
            return refused_response(exc)
        if not events:
            return json_response({"error": "no record in the body"}, 400)
        handed = await hand_over(state, events, source)
        if not handed.ok:
            return not_taken_response(state)
        errors = list(handed.errors)
        if handed.accepted == 0:
            return json_response({"error": "no valid record in the body", "errors": errors}, 400)
        answer = {"accepted": handed.accepted, "rejected": handed.rejected, "errors": errors}
        return json_response(answer, 202)

    return post_records


def _decoded(request: web.Request, kind: InputKind, body: bytes, max_depth: int) -> list[Decoded]:
    origin = Origin(f"http:{kind.value}", timestamp=received_at(request.app[APP_STATE]))
    if request.content_type not in LINE_TYPES:
        return list(decode_object(kind, parse_json(body, max_depth), origin, body))
    out: list[Decoded] = []
    for number, line in enumerate(body.splitlines(), start=1):
        if line.strip():
            at = Origin(origin.source, None, number, origin.timestamp)
            out.extend(decode_record(kind, line, at))
    return out
