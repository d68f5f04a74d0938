"""PagerDuty Events API v2: ``trigger`` on open (and updates), ``resolve`` on resolve.

Body rules as PagerDuty documents them: ``routing_key``; ``event_action`` one of trigger,
acknowledge, resolve; ``dedup_key`` (here the incident id, at most 255 characters); for a
trigger a ``payload`` with ``summary`` (at most 1024 characters), ``source``, ``severity``
(critical, error, warning, info), optional ``timestamp`` (ISO 8601), ``component``, ``group``,
``class`` and ``custom_details``; optional ``links`` (``href``, ``text``) and ``images``; the
whole event at most 512 KB. Answers: 202 accepted, 400 invalid (dead-lettered with the
reason), 429 and 5xx retried with backoff. At most 120 events a minute per routing key.

The text fields people read (``summary``, ``source``, ``component``, ``group``) have control
characters and bidi overrides escaped; ``custom_details`` carries the data verbatim.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

import httpx
import orjson

from connectors.errors import DeliveryError
from connectors.notify.http import post_json
from connectors.safetext import escape_text
from connectors.secrets import Secret
from engine.events import Action, json_object

DEFAULT_URL: Final = "https://events.pagerduty.com/v2/enqueue"
SEVERITIES: Final = ("critical", "error", "warning", "info")
ACTIONS: Final = ("trigger", "acknowledge", "resolve")
MAX_SUMMARY: Final = 1024
MAX_DEDUP_KEY: Final = 255
MAX_EVENT_BYTES: Final = 512 * 1024
RATE_PER_MIN: Final = 120.0


def build_event(action: Action, routing_key: str) -> dict[str, Any]:
    """The Events v2 body for ``action`` (custom_details trimmed if the event would be too big)."""
    incident: dict[str, Any] = json_object(action.payload.get("incident"))
    said = action.payload.get("event")
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "resolve" if said == "resolve" else "trigger",
        "dedup_key": action.dedup_key[:MAX_DEDUP_KEY],
    }
    if event["event_action"] == "resolve":
        return event
    causes = incident.get("root_causes") or []
    top = escape_text(causes[0]["node"] if causes else (incident.get("nodes") or ["vigil"])[0])
    severity = incident.get("severity", "error")
    labels: dict[str, Any] = {**json_object(incident.get("labels")), **_labels_of(action)}
    kind = causes[0].get("kind") if causes else None
    summary = escape_text(incident.get("summary") or f"incident {action.incident}")
    event["payload"] = {
        "summary": summary[:MAX_SUMMARY],
        "source": top,
        "severity": severity if severity in SEVERITIES else "error",
        "timestamp": _iso(float(incident.get("updated_at") or action.ts)),
        "component": escape_text(labels.get("service") or top),
        "group": escape_text(labels.get("cluster") or labels.get("namespace") or "vigil"),
        "class": escape_text(f"vigil-{kind}-incident" if kind else "vigil-incident"),
        "custom_details": {
            "incident": action.incident,
            "status": incident.get("status"),
            "revision": incident.get("revision"),
            "root_causes": causes[:3],
            "nodes": incident.get("nodes", []),
        },
    }
    event["client"] = "Vigil"
    link = action.payload.get("link")
    if isinstance(link, str) and link:
        event["client_url"] = link
        event["links"] = [{"href": link, "text": "Vigil incident"}]
    if len(orjson.dumps(event)) > MAX_EVENT_BYTES:
        event["payload"]["custom_details"] = {"incident": action.incident, "truncated": True}
    return event


def _labels_of(action: Action) -> dict[str, Any]:
    """The incident's routing labels (cluster, namespace, service of the top cause, ...)."""
    return json_object(action.payload.get("labels"))


def validate_event(event: dict[str, Any]) -> list[str]:
    """Every way ``event`` breaks PagerDuty's documented rules (empty list: valid).

    >>> validate_event({"routing_key": "k" * 32, "event_action": "page", "dedup_key": "x"})
    ["event_action: must be one of trigger, acknowledge, resolve (got 'page')"]
    """
    problems = []
    if not isinstance(event.get("routing_key"), str) or not event["routing_key"]:
        problems.append("routing_key: required")
    if event.get("event_action") not in ACTIONS:
        problems.append(
            f"event_action: must be one of {', '.join(ACTIONS)} (got {event.get('event_action')!r})"
        )
    dedup = event.get("dedup_key")
    if event.get("event_action") != "trigger" and not dedup:
        problems.append("dedup_key: required for acknowledge and resolve")
    if dedup is not None and (not isinstance(dedup, str) or len(dedup) > MAX_DEDUP_KEY):
        problems.append(f"dedup_key: a string of at most {MAX_DEDUP_KEY} characters")
    if event.get("event_action") == "trigger":
        problems.extend(_payload_problems(event.get("payload")))
    for i, link in enumerate(event.get("links") or []):
        if not isinstance(link, dict) or not isinstance(link.get("href"), str):
            problems.append(f"links[{i}].href: required")
    if len(orjson.dumps(event)) > MAX_EVENT_BYTES:
        problems.append(f"event: larger than {MAX_EVENT_BYTES} bytes")
    return problems


def _payload_problems(payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return ["payload: required for trigger"]
    problems = []
    summary = payload.get("summary")
    if not isinstance(summary, str) or not summary:
        problems.append("payload.summary: required")
    elif len(summary) > MAX_SUMMARY:
        problems.append(f"payload.summary: at most {MAX_SUMMARY} characters (got {len(summary)})")
    if not isinstance(payload.get("source"), str) or not payload["source"]:
        problems.append("payload.source: required")
    if payload.get("severity") not in SEVERITIES:
        problems.append(f"payload.severity: must be one of {', '.join(SEVERITIES)}")
    if "timestamp" in payload:
        try:
            datetime.fromisoformat(str(payload["timestamp"]))
        except ValueError:
            problems.append("payload.timestamp: must be ISO 8601")
    for key in ("component", "group", "class"):
        if key in payload and not isinstance(payload[key], str):
            problems.append(f"payload.{key}: must be a string")
    if "custom_details" in payload and not isinstance(payload["custom_details"], dict):
        problems.append("payload.custom_details: must be an object")
    return problems


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat().replace("+00:00", "Z")


class PagerDutyNotifier:
    """Sends actions as Events v2 events to one routing key."""

    def __init__(
        self, name: str, client: httpx.AsyncClient, routing_key: Secret, url: str | None = None
    ) -> None:
        self.name, self.client, self.url = name, client, url or DEFAULT_URL
        self._key = routing_key

    async def send(self, action: Action) -> None:
        key = self._key.reveal()
        event = build_event(action, key)
        problems = validate_event(event)
        if problems:
            raise DeliveryError(self.name, "invalid event: " + "; ".join(problems), retryable=False)
        await post_json(self.client, self.name, self.url, orjson.dumps(event), {}, (key,))
