"""Server-sent events: ``GET /api/v1/stream`` pushes incident records as they change.

On connect the client first gets every incident that is not resolved, then each new record
(``event: incident``, ``id:`` = the record id, ``data:`` = the wire JSON). A comment line is
sent every ``HEARTBEAT_S`` so proxies keep the connection open. A client that falls more than
``QUEUE_RECORDS`` records behind is disconnected (it reconnects and gets a fresh snapshot).
At most ``runtime.http.max_streams`` streams are open at once; past it the answer is 503.

Acknowledgements are pushed as ``event: ack`` with ``data: {"incident": id, "ack": {"by",
"at", "comment"}}`` (``publish_ack``; in worker mode every worker pushes those of all workers).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Final

import orjson
from aiohttp import web

from connectors.http.state import APP_STATE, AppState
from engine.events import Incident, IncidentStatus, JsonDict

HEARTBEAT_S: Final = 15.0
QUEUE_RECORDS: Final = 1000


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/stream", stream_incidents)


def encode_event(incident: Incident) -> bytes:
    """One SSE message for an incident record.

    >>> from engine.events import Severity
    >>> inc = Incident("inc-1", IncidentStatus.OPEN, 1.0, 1.0, Severity.WARNING, "s", ())
    >>> encode_event(inc).split(b"\\n")[:2]
    [b'event: incident', b'id: inc-1@0']
    """
    data = orjson.dumps(incident.to_wire())
    return b"event: incident\nid: " + incident.record_id.encode() + b"\ndata: " + data + b"\n\n"


def encode_ack_event(incident_id: str, ack: JsonDict) -> bytes:
    """One SSE message for an acknowledgement.

    >>> encode_ack_event("inc-1", {"by": "ana", "at": 5.0, "comment": ""}).split(b"\\n")[:2]
    [b'event: ack', b'id: ack:inc-1@5.0']
    """
    data = orjson.dumps({"incident": incident_id, "ack": ack})
    record_id = f"ack:{incident_id}@{ack.get('at')}".encode()
    return b"event: ack\nid: " + record_id + b"\ndata: " + data + b"\n\n"


def publish_ack(state: AppState, incident_id: str, ack: JsonDict) -> None:
    """Push an acknowledgement to every open stream (call on the server's event loop)."""
    message = encode_ack_event(incident_id, ack)
    for queue in list(state.streams):
        _offer(queue, message)


def _state(request: web.Request) -> AppState:
    return request.app[APP_STATE]


async def stream_incidents(request: web.Request) -> web.StreamResponse:
    state = _state(request)
    if len(state.streams) >= state.limits.max_streams:
        return web.json_response(
            {"error": f"{state.limits.max_streams} event streams are open; retry later"},
            status=503,
            headers={"Retry-After": "5"},
        )
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=QUEUE_RECORDS)
    loop = asyncio.get_running_loop()

    def push(incident: Incident) -> None:
        loop.call_soon_threadsafe(_offer, queue, encode_event(incident))

    unsubscribe = state.incidents.subscribe(push)
    state.streams.add(queue)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    try:
        await response.prepare(request)
        await response.write(b"retry: 2000\n\n")
        for incident in reversed(state.incidents.list(limit=10_000)):
            if incident.status is not IncidentStatus.RESOLVED:
                await response.write(encode_event(incident))
        await _pump(queue, response)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        unsubscribe()
        state.streams.discard(queue)
    return response


async def _pump(queue: asyncio.Queue[bytes | None], response: web.StreamResponse) -> None:
    while True:
        try:
            message = await asyncio.wait_for(queue.get(), HEARTBEAT_S)
        except TimeoutError:
            message = b": keepalive\n\n"
        if message is None:
            return
        await response.write(message)


def _offer(queue: asyncio.Queue[bytes | None], message: bytes | None) -> None:
    """Queue a message; a client too far behind gets its stream ended instead of buffered."""
    try:
        queue.put_nowait(message)
    except asyncio.QueueFull:
        with contextlib.suppress(asyncio.QueueEmpty):
            queue.get_nowait()
        queue.put_nowait(None)


async def close_streams(app: web.Application) -> None:
    """On shutdown, end every open stream so the server stops promptly."""
    state = _state_of_app(app)
    for queue in list(state.streams):
        _offer(queue, None)


def _state_of_app(app: web.Application) -> AppState:
    return app[APP_STATE]
