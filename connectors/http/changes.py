"""Deploys and other changes from CI/CD: the contract's change records and GitHub's webhook.

* ``POST /api/v1/changes``: change records of the wire contract (one object or an array),
  what a pipeline step or an Argo CD notification template posts (docs/ingest.md has both).
  202 ``{"accepted", "rejected", "errors"}``; 400 when none is valid.
* ``POST /api/v1/changes/github``: a GitHub webhook (content type ``application/json``) for
  the ``deployment_status`` event (``connectors.formats.github``); ``ping`` is answered, other
  events and non-terminal states are ignored (202 ``{"ignored": ...}``). GitHub cannot send a
  bearer token: set the webhook's secret to the API token and the request is accepted on its
  ``X-Hub-Signature-256`` (HMAC-SHA256 of the body), or put the token in an
  ``Authorization`` header through a proxy. A malformed event is a dead letter and a 400.

Both answer 503 + ``Retry-After`` when the runtime cannot take the changes now.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

from aiohttp import web

from connectors.formats.github import TERMINAL_STATES, decode_deployment_status, deployment_state
from connectors.http.accept import (
    hand_over,
    json_response,
    not_taken_response,
    read_body_within,
    read_ingest_body,
    refused_response,
)
from connectors.http.auth import bearer_matches
from connectors.http.ingest import Decoded
from connectors.http.limits import RequestRefusedError, parse_json
from connectors.http.state import APP_STATE, AppState, received_at
from engine.events import InputKind, Rejected
from engine.ingest.decode import Origin, decode_object
from engine.ingest.errors import FieldError

SOURCE: Final = "http:changes"
GITHUB_SOURCE: Final = "http:github"


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/changes", post_changes)
    app.router.add_post("/api/v1/changes/github", post_github)


async def post_changes(request: web.Request) -> web.Response:
    state = request.app[APP_STATE]
    try:
        raw = await read_ingest_body(request, state)
        payload = parse_json(raw, state.limits.max_json_depth)
    except RequestRefusedError as exc:
        return refused_response(exc)
    origin = Origin(SOURCE, timestamp=received_at(state))
    events = decode_object(InputKind.CHANGES, payload, origin, raw)
    return await _answer(state, events, SOURCE)


async def _answer(state: AppState, events: list[Decoded], source: str) -> web.Response:
    handed = await hand_over(state, events, source)
    if not handed.ok:
        return not_taken_response(state)
    errors = list(handed.errors)
    if handed.accepted == 0 and handed.rejected:
        return json_response({"error": "no valid change in the payload", "errors": errors}, 400)
    body = {"accepted": handed.accepted, "rejected": handed.rejected, "errors": errors}
    return json_response(body, 202)


def signature_matches(header: str | None, secret: str | None, body: bytes) -> bool:
    """Whether ``X-Hub-Signature-256`` is ``sha256=`` + HMAC-SHA256(``secret``, ``body``).

    >>> mac = hmac.new(b"s3cret", b"{}", hashlib.sha256).hexdigest()
    >>> signature_matches(f"sha256={mac}", "s3cret", b"{}"), signature_matches(mac, "s3cret", b"{}")
    (True, False)
    """
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header[len("sha256=") :].strip(), expected)


async def post_github(request: web.Request) -> web.Response:
    state = request.app[APP_STATE]
    try:
        raw = await read_body_within(request, state)
        signed = signature_matches(request.headers.get("X-Hub-Signature-256"), state.token, raw)
        if not signed and not bearer_matches(request.headers.get("Authorization"), state.token):
            raise RequestRefusedError(401, "missing or wrong X-Hub-Signature-256 or bearer token")
        payload = parse_json(raw, state.limits.max_json_depth)
    except RequestRefusedError as exc:
        return refused_response(exc)
    event = request.headers.get("X-GitHub-Event", "")
    if event == "ping":
        return json_response({"pong": True})
    if event != "deployment_status":
        return json_response({"ignored": f"event {event or '(none)'}"}, 202)
    try:
        if not isinstance(payload, dict):
            raise FieldError("body: must be an object")
        status = deployment_state(payload)
        if status not in TERMINAL_STATES:
            return json_response({"ignored": f"state {status}"}, 202)
        events: list[Decoded] = [decode_deployment_status(payload, request.query.get("service"))]
    except FieldError as error:
        events = [Rejected(GITHUB_SOURCE, error.reason, raw)]
    return await _answer(state, events, GITHUB_SOURCE)
