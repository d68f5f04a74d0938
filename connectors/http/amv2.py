"""The Alertmanager v2 API subset that Prometheus, amtool and Grafana speak.

Shapes follow Alertmanager's ``api/v2/openapi.yaml``:

* ``POST /api/v2/alerts``: a JSON array of ``postableAlert`` (``labels``, ``annotations``,
  ``startsAt``, ``endsAt``, ``generatorURL``), what Prometheus sends to an Alertmanager. There is
  no ``status``: an alert whose ``endsAt`` is at or before the time Vigil received it is
  resolved, otherwise firing (Prometheus sets ``endsAt`` a few resend intervals ahead while an
  alert fires). Each element is decoded like a webhook alert; a bad one is a dead letter alone.
  200 with an empty body; 400 (a JSON string) when no element is valid.
* ``GET /api/v2/silences`` (``gettableSilences``), ``GET /api/v2/silence/{id}``,
  ``POST /api/v2/silences`` (``postableSilence``, answered ``{"silenceID": id}``; with an
  ``id`` it replaces that silence: the old one is expired and the new one stored, 404 if
  there is none), ``DELETE /api/v2/silence/{id}``: the same silence store as
  ``/api/v1/silences`` (``connectors/http/silences.py``), so ``amtool silence add/query/expire``
  and Grafana manage the silences the deliverer reads. Ids are Vigil's (``sil-...``), not UUIDs.
* ``GET /api/v2/status``: enough for a client's health check (version, cluster disabled).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiohttp import web

from connectors.errors import ConnectorError
from connectors.http.accept import (
    hand_over,
    json_response,
    not_taken_response,
    read_ingest_body,
    refused_response,
)
from connectors.http.amv2_alerts import list_alerts
from connectors.http.auth import bearer_matches
from connectors.http.ingest import Decoded
from connectors.http.limits import RequestRefusedError, parse_json, read_body
from connectors.http.silences import parse_silence_request
from connectors.http.state import APP_STATE, AppState, received_at
from connectors.metrics import vigil_version
from engine.events import AlertStatus, JsonDict, Rejected
from engine.ingest.alertmanager import decode_alert
from engine.ingest.decode import serialise
from engine.ingest.errors import FieldError
from engine.ingest.timestamps import read_optional_time
from engine.ingest.values import json_type
from engine.rules.matchers import MatchOp, parse_matcher

SOURCE = "http:alerts-v2"
T = TypeVar("T")
_STARTED = time.time()


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v2/status", get_status)
    app.router.add_post("/api/v2/alerts", post_alerts)
    app.router.add_get("/api/v2/alerts", list_alerts)
    app.router.add_get("/api/v2/silences", list_silences)
    app.router.add_post("/api/v2/silences", post_silence)
    app.router.add_get("/api/v2/silence/{id}", get_silence)
    app.router.add_delete("/api/v2/silence/{id}", delete_silence)


def _state(request: web.Request) -> AppState:
    return request.app[APP_STATE]


def decode_postable_alerts(payload: object, received_at: float | None) -> list[Decoded]:
    """``postableAlerts`` -> alerts and dead letters (one per bad element). Received at an
    unknown time (``None``: an event clock before any event), an alert is taken as received
    at its ``startsAt``.

    >>> [a.status.value for a in decode_postable_alerts([
    ...     {"labels": {"alertname": "Up"}, "startsAt": "2025-11-26T00:00:00Z",
    ...      "endsAt": "2025-11-26T00:04:00Z"},
    ...     {"labels": {"alertname": "Up"}, "startsAt": "2025-11-26T00:00:00Z",
    ...      "endsAt": "2025-11-26T00:01:00Z"}], received_at=1764115300.0)]
    ['firing', 'resolved']
    """
    if not isinstance(payload, list):
        reason = f"alerts: must be an array of alerts (got {json_type(payload)})"
        return [Rejected(SOURCE, reason, serialise(payload))]
    out: list[Decoded] = []
    for i, element in enumerate(payload):
        if not isinstance(element, dict):
            reason = f"alerts[{i}]: not a JSON object (got {json_type(element)})"
            out.append(Rejected(SOURCE, reason, serialise(element)))
            continue
        try:
            ends_at = read_optional_time(element, "endsAt")
            at = received_at if received_at is not None else _starts(element)
            resolved = ends_at is not None and (at is None or ends_at <= at)
            status = AlertStatus.RESOLVED if resolved else AlertStatus.FIRING
            out.append(decode_alert(element, received_at, status.value))
        except FieldError as error:
            out.append(Rejected(SOURCE, error.under(f"alerts[{i}]").reason, serialise(element)))
    return out


def _starts(element: dict[str, object]) -> float | None:
    return read_optional_time(element, "startsAt")


async def post_alerts(request: web.Request) -> web.Response:
    state = _state(request)
    try:
        raw = await read_ingest_body(request, state)
        payload = parse_json(raw, state.limits.max_json_depth)
        count = len(payload) if isinstance(payload, list) else 1
        if count > state.limits.max_alerts_per_request:
            limit = state.limits.max_alerts_per_request
            raise RequestRefusedError(413, f"{count} alerts is over the limit of {limit}")
    except RequestRefusedError as exc:
        return refused_response(exc)
    handed = await hand_over(state, decode_postable_alerts(payload, received_at(state)), SOURCE)
    if not handed.ok:
        return not_taken_response(state)
    if handed.accepted == 0 and handed.rejected:
        return json_response("no valid alert: " + "; ".join(handed.errors[:3]), 400)
    return web.Response(status=200)


async def get_status(request: web.Request) -> web.Response:
    version = vigil_version()
    return json_response(
        {
            "cluster": {"status": "disabled", "peers": []},
            "versionInfo": {
                "version": version,
                "revision": "",
                "branch": "",
                "buildUser": "vigil",
                "buildDate": "",
                "goVersion": "none (Vigil, Python)",
            },
            "config": {"original": ""},
            "uptime": _iso(_STARTED),
        }
    )


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def gettable_silence(wire: JsonDict) -> JsonDict:
    """A silence as the store lists it (``silence_wire``) in Alertmanager's shape."""
    matchers = []
    for text in wire["matchers"]:  # type: ignore[union-attr]  # a list of strings
        m = parse_matcher(str(text))
        matchers.append(
            {
                "name": m.name,
                "value": m.value,
                "isRegex": m.op in (MatchOp.REGEX, MatchOp.NOT_REGEX),
                "isEqual": m.op in (MatchOp.EQUAL, MatchOp.REGEX),
            }
        )
    starts_at = float(wire["starts_at"])  # type: ignore[arg-type]
    return {
        "id": wire["id"],
        "status": {"state": wire["status"]},
        "updatedAt": _iso(starts_at),
        "matchers": matchers,  # type: ignore[dict-item]
        "startsAt": _iso(starts_at),
        "endsAt": _iso(float(wire["ends_at"])),  # type: ignore[arg-type]
        "createdBy": wire.get("created_by", ""),
        "comment": wire.get("comment", ""),
    }


def _matcher_text(item: object, i: int) -> str:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise ValueError(f"matchers[{i}]: expected {{name, value, isRegex, isEqual}}")
    value, regex, equal = item.get("value"), item.get("isRegex"), item.get("isEqual", True)
    if not isinstance(value, str) or not isinstance(regex, bool) or not isinstance(equal, bool):
        raise ValueError(f"matchers[{i}]: value must be a string, isRegex/isEqual booleans")
    op = {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}
    return f'{item["name"]}{op[(regex, equal)]}"{value}"'


def silence_request_body(body: object) -> dict[str, Any]:
    """A ``postableSilence`` as the body ``parse_silence_request`` reads; ``ValueError``."""
    if not isinstance(body, dict):
        raise ValueError(f"body: expected a JSON object (got {json_type(body)})")
    matchers = body.get("matchers")
    if not isinstance(matchers, list) or not matchers:
        raise ValueError("matchers: expected a non-empty list of {name, value, isRegex}")
    out: dict[str, Any] = {"matchers": [_matcher_text(m, i) for i, m in enumerate(matchers)]}
    for theirs, ours in (("startsAt", "starts_at"), ("endsAt", "ends_at")):
        if theirs in body:
            out[ours] = body[theirs]
    out["created_by"] = body.get("createdBy", "")
    out["comment"] = body.get("comment", "")
    return out


async def list_silences(request: web.Request) -> web.Response:
    """Every silence; ``?filter=`` matchers keep, as Alertmanager does, the silences whose
    equality matchers form a label set every filter matches (``400`` for a bad filter)."""
    try:
        wanted = [parse_matcher(text) for text in request.query.getall("filter", [])]
    except ValueError as exc:
        return json_response(f"filter: {exc}", 400)
    silences = _state(request).silences.list_silences(time.time())
    kept = [s for s in silences if all(m.matches(_equal_labels(s)) for m in wanted)]
    return json_response([gettable_silence(s) for s in kept])


def _equal_labels(wire: JsonDict) -> dict[str, str]:
    """The label set a silence's equality matchers describe (regex and negative ones left out)."""
    matchers = wire["matchers"]
    assert isinstance(matchers, list)  # noqa: S101  (silence_wire writes a list of strings)
    found = (parse_matcher(str(text)) for text in matchers)
    return {m.name: m.value for m in found if m.op is MatchOp.EQUAL}


async def get_silence(request: web.Request) -> web.Response:
    found = _find(_state(request), request.match_info["id"])
    if found is None:
        return json_response("silence not found", 404)
    return json_response(gettable_silence(found))


def _find(state: AppState, silence_id: str) -> JsonDict | None:
    for silence in state.silences.list_silences(time.time()):
        if silence["id"] == silence_id:
            return silence
    return None


async def post_silence(request: web.Request) -> web.Response:
    state = _state(request)
    try:
        if not bearer_matches(request.headers.get("Authorization"), state.token):
            raise RequestRefusedError(401, "missing or wrong bearer token")
        raw = await _read_small_body(request, state)
        body = parse_json(raw, state.limits.max_json_depth)
        now = time.time()
        wanted = parse_silence_request(
            silence_request_body(body), now, state.limits.max_silence_duration
        )
        replaces = body.get("id") if isinstance(body, dict) else None
        if replaces and _find(state, str(replaces)) is None:
            return json_response("silence not found", 404)
        created = await _settled(state.silences.add_silence(wanted))
        if replaces and replaces != created["id"]:
            await _settled(state.silences.expire_silence(str(replaces), now))
    except RequestRefusedError as exc:
        return refused_response(exc)
    except ValueError as exc:
        return json_response(str(exc), 400)
    except ConnectorError as exc:
        return json_response(str(exc), 503, **{"Retry-After": "1"})
    return json_response({"silenceID": created["id"]})


async def _read_small_body(request: web.Request, state: AppState) -> bytes:
    return await read_body(request, state.limits.max_body_bytes, state.limits.body_timeout)


async def delete_silence(request: web.Request) -> web.Response:
    state = _state(request)
    if not bearer_matches(request.headers.get("Authorization"), state.token):
        return json_response("missing or wrong bearer token", 401)
    try:
        expired = await _settled(
            state.silences.expire_silence(request.match_info["id"], time.time())
        )
    except ConnectorError as exc:
        return json_response(str(exc), 503, **{"Retry-After": "1"})
    if not expired:
        return json_response("silence not found", 404)
    return web.Response(status=200)


async def _settled(value: T | Awaitable[T]) -> T:
    """The store's answer, awaited if the store is asynchronous."""
    if inspect.isawaitable(value):
        return await value
    return value
