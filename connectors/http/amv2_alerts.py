"""``GET /api/v2/alerts``: the alerts this process holds as firing (``AlertView``), in
Alertmanager's ``gettableAlerts`` shape, so ``amtool alert query`` and Grafana's Alertmanager
data source can list them.

``status.silencedBy`` lists the active silences (the store of ``/api/v2/silences``) whose
matchers all match the alert's labels, and ``state`` is then ``suppressed``; Vigil inhibits
nothing at this stage (``inhibitedBy`` is empty). ``?filter=`` matchers (repeatable) keep the
alerts whose labels match all of them; ``active=false`` / ``silenced=false`` leave out those
states, as in Alertmanager. ``endsAt`` of an alert sent without one is when the view will drop
it (``updatedAt``, its last receipt, plus ``stale_after_s``).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from aiohttp import web

from connectors.http.accept import json_response
from connectors.http.alertview import starts_of
from connectors.http.state import APP_STATE
from engine.events import Alert, JsonDict
from engine.rules.matchers import Matcher, match_all, parse_matcher

RECEIVER = "vigil"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def gettable_alert(alert: Alert, seen: float, silenced_by: list[str], stale_s: float) -> JsonDict:
    """One ``gettableAlert`` (Alertmanager's ``api/v2/openapi.yaml``)."""
    ends = alert.ends_at if alert.ends_at is not None else seen + stale_s
    return {
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "startsAt": _iso(starts_of(alert)),
        "endsAt": _iso(ends),
        "updatedAt": _iso(seen),
        "generatorURL": alert.generator_url or "",
        "fingerprint": alert.fingerprint,
        "receivers": [{"name": RECEIVER}],
        "status": {
            "state": "suppressed" if silenced_by else "active",
            "silencedBy": silenced_by,
            "inhibitedBy": [],
            "mutedBy": [],
        },
    }


def _active_silences(wires: list[JsonDict]) -> list[tuple[str, tuple[Matcher, ...]]]:
    out = []
    for wire in wires:
        if wire.get("status") == "active":
            texts = wire.get("matchers") or []
            matchers = tuple(parse_matcher(str(t)) for t in texts)  # type: ignore[union-attr]
            out.append((str(wire["id"]), matchers))
    return out


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "true").lower() != "false"


async def list_alerts(request: web.Request) -> web.Response:
    """``GET /api/v2/alerts``: the firing alerts (module doc); ``400`` for a bad filter."""
    state = request.app[APP_STATE]
    try:
        wanted = [parse_matcher(text) for text in request.query.getall("filter", [])]
    except ValueError as exc:
        return json_response(f"filter: {exc}", 400)
    now = time.time()
    silences = _active_silences(state.silences.list_silences(now))
    active, silenced = _flag(request, "active"), _flag(request, "silenced")
    out = []
    for alert, seen in state.alerts.firing(now):
        if not match_all(wanted, alert.labels):
            continue
        by = [sid for sid, matchers in silences if match_all(matchers, alert.labels)]
        if silenced if by else active:
            out.append(gettable_alert(alert, seen, by, state.alerts.stale_after_s))
    return json_response(out)
