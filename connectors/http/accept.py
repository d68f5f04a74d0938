"""What every ingest endpoint does once a body is decoded: count, hand over, answer.

The ingest endpoints (Alertmanager webhook and v2 API, Prometheus remote write, OTLP/HTTP,
changes) all end the same way:

* each ``Rejected`` goes to the runtime with the events (the runtime writes it to the
  dead-letter output) and, once taken, is counted in ``vigil_dead_letters_total`` under its
  reason;
* the decoded list reaches the ``Ingest`` port in batches of at most
  ``limits.ingest_batch_events``, so a large notification is never one huge pipeline batch;
* a port that refuses (full, broker down) is a fault on our side and temporary: the answer is
  503 with ``Retry-After`` (every sender here retries 5xx and never retries 4xx); a runtime
  with no port (``vigil replay/demo --serve`` take no live input) answers 409, so senders stop.
  A refusal after earlier batches were taken means those are sent again on the retry, which is
  harmless for alerts (a re-send of the same fingerprint) and for samples (the same point).

Refusals of the request itself (auth, size, unreadable body) are ``RequestRefusedError``; for
ingest endpoints a body that did not arrive in time is our answer 503, not 408 (the server may
just be slow under load: ask the sender to retry).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Final

import orjson
from aiohttp import web

from connectors.http.auth import bearer_matches
from connectors.http.ingest import Decoded
from connectors.http.limits import RequestRefusedError, read_body, read_raw_body
from connectors.http.state import AppState
from engine.events import Rejected

RETRY_AFTER_S: Final = "1"
BUSY: Final = "pipeline is busy: retry later"
NO_LIVE_INPUT: Final = (
    "this Vigil replays files and takes no live input (vigil replay/demo --serve); "
    "send to `vigil serve` or a worker"
)


@dataclass(frozen=True, slots=True)
class Handed:
    """What ``hand_over`` did: ``ok`` (every batch taken), events and rejects taken."""

    ok: bool
    accepted: int
    rejected: int
    errors: tuple[str, ...]


def json_response(body: object, status: int = 200, **headers: str) -> web.Response:
    return web.Response(
        body=orjson.dumps(body), status=status, content_type="application/json", headers=headers
    )


def not_taken_response(state: AppState) -> web.Response:
    """The answer when ``hand_over`` could not give everything to the runtime: 503 (retry)
    when it is busy, 409 when it takes no live input at all (``vigil replay/demo --serve``:
    a retry would never succeed, and every sender here retries 5xx forever)."""
    if state.ingest is None:
        return json_response({"error": NO_LIVE_INPUT}, 409)
    return busy_response()


def busy_response(reason: str = BUSY) -> web.Response:
    """503 + ``Retry-After``: the sender keeps the data and retries."""
    return json_response({"error": reason}, 503, **{"Retry-After": RETRY_AFTER_S})


def refused_response(exc: RequestRefusedError) -> web.Response:
    if exc.status >= 500:
        return json_response({"error": exc.reason}, exc.status, **{"Retry-After": RETRY_AFTER_S})
    return json_response({"error": exc.reason}, exc.status)


async def read_ingest_body(request: web.Request, state: AppState, *, raw: bool = False) -> bytes:
    """Auth, then the body within ``max_ingest_body_bytes`` (``Content-Encoding`` undone unless
    ``raw``).

    ``RequestRefusedError``: 401 token, 413 size, 400/415 encoding, 503 body too slow."""
    if not bearer_matches(request.headers.get("Authorization"), state.token):
        raise RequestRefusedError(401, "missing or wrong bearer token")
    return await read_body_within(request, state, raw=raw)


async def read_body_within(request: web.Request, state: AppState, *, raw: bool = False) -> bytes:
    """The body within the ingest limits (no auth check); see ``read_ingest_body``."""
    limits, read = state.limits, read_raw_body if raw else read_body
    try:
        return await read(request, limits.max_ingest_body_bytes, limits.body_timeout)
    except RequestRefusedError as exc:
        if exc.status == 408:
            raise RequestRefusedError(503, f"{exc.reason}; retry") from None
        raise


async def hand_over(state: AppState, events: list[Decoded], source: str) -> Handed:
    """Count the rejects, give everything to the ingest port in batches, count what it took.

    ``source`` names the endpoint in ``vigil_records_in_total{topic=...}`` (``http:alerts``)."""
    rejected = [e for e in events if isinstance(e, Rejected)]
    errors = tuple(r.error for r in rejected[:10])
    ingest, size = state.ingest, state.limits.ingest_batch_events
    for start in range(0, len(events), size):
        batch = events[start : start + size]
        if ingest is None or not await ingest(batch):
            return Handed(False, 0, len(rejected), errors)
        for event in batch:  # counted once taken: a refused request is sent again
            if isinstance(event, Rejected):
                state.metrics.count_dead_letter(event.error)
        state.metrics.records_in.labels(topic=source).inc(len(batch))
        state.alerts.apply(batch, time.time())
    return Handed(True, len(events) - len(rejected), len(rejected), errors)
