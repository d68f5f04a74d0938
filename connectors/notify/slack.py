"""Slack incoming webhook: a Block Kit message per action (trigger, update, resolve, repeat).

Slack's documented limits: at most 50 blocks; a header's plain text at most 150 characters; a
section's text at most 3000 and each of at most 10 fields at most 2000; a top-level ``text``
fallback for notifications. Incoming webhooks take about one message a second (the delivery
rate limiter keeps to that) and answer 429 with ``Retry-After`` when pushed harder.

Values from the data are shown, never interpreted: control characters and bidi overrides are
escaped in every text, and ``&``, ``<``, ``>`` in mrkdwn texts (Slack's own escaping).
"""

from __future__ import annotations

from typing import Any, Final

import httpx
import orjson

from connectors.errors import DeliveryError
from connectors.notify.http import post_json
from connectors.safetext import escape_text
from connectors.secrets import Secret
from engine.events import Action, json_object

MAX_BLOCKS: Final = 50
MAX_HEADER: Final = 150
MAX_SECTION: Final = 3000
MAX_FIELDS: Final = 10
MAX_FIELD: Final = 2000
RATE_PER_MIN: Final = 54.0
"""Below 60 a minute on purpose: network jitter must not make two posts land within 1 s."""
_ICON: Final = {"critical": ":red_circle:", "error": ":large_orange_circle:"}


def build_message(action: Action) -> dict[str, Any]:
    """Header, summary, severity/status fields, the top 3 root causes with their evidence."""
    incident: dict[str, Any] = json_object(action.payload.get("incident"))
    said = str(action.payload.get("event", "trigger"))
    severity = str(incident.get("severity", "error"))
    resolved = said == "resolve"
    summary = str(incident.get("summary", ""))
    title = f"{'RESOLVED' if resolved else severity.upper()}: {summary}"
    icon = ":white_check_mark:" if resolved else _ICON.get(severity, ":large_yellow_circle:")
    status = incident.get("status", said)
    header = escape_text(title)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(header, MAX_HEADER)}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": _cut(f"{icon} {_md(summary)}", MAX_SECTION)},
            "fields": [
                {"type": "mrkdwn", "text": _cut(f"*Severity*\n{_md(severity)}", MAX_FIELD)},
                {"type": "mrkdwn", "text": _cut(f"*Status*\n{_md(status)}", MAX_FIELD)},
                {
                    "type": "mrkdwn",
                    "text": _cut(f"*Incident*\n`{_md(action.incident)}`", MAX_FIELD),
                },
                {"type": "mrkdwn", "text": _cut(f"*Update*\n{_md(said)}", MAX_FIELD)},
                *_label_fields(action),
            ],
        },
    ]
    blocks += _causes_block(incident)
    link = action.payload.get("link")
    footer = f"Vigil · action `{_md(action.id)}`"
    if isinstance(link, str) and link:
        footer = f"<{escape_text(link)}|Open in Vigil> · action `{_md(action.id)}`"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": footer}]})
    return {"text": _cut(_md(title), MAX_SECTION), "blocks": blocks}


def _md(value: object) -> str:
    r"""A data value for a mrkdwn text: control characters and bidi overrides escaped, and
    ``&``, ``<``, ``>`` escaped as Slack asks (so a label cannot write ``<!channel>``).

    >>> _md("<!channel> a&b\x1b[2J")
    '&lt;!channel&gt; a&amp;b\\x1b[2J'
    """
    text = escape_text(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _label_fields(action: Action) -> list[dict[str, Any]]:
    """Cluster, namespace and service from the incident's labels (at most 10 fields in all)."""
    labels = json_object(action.payload.get("labels"))
    return [
        {"type": "mrkdwn", "text": _cut(f"*{key.capitalize()}*\n{_md(labels[key])}", MAX_FIELD)}
        for key in ("cluster", "namespace", "service")
        if isinstance(labels.get(key), str) and labels[key]
    ]


def _causes_block(incident: dict[str, Any]) -> list[dict[str, Any]]:
    """The top 3 root causes as one section (no block when the incident names none)."""
    causes = list(incident.get("root_causes") or [])[:3]
    if not causes:
        return []
    lines = [_cause_line(i, c) for i, c in enumerate(causes, 1)]
    text = _cut("*Probable root causes*\n" + "\n".join(lines), MAX_SECTION)
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]


def _cause_line(rank: int, cause: dict[str, Any]) -> str:
    evidence = "; ".join(_md(e) for e in (cause.get("evidence") or [])[:3])
    score = float(cause.get("score") or 0.0)
    return _cut(f"{rank}. *{_md(cause.get('node'))}* ({score:.2f}) — {evidence}", 900)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def validate_message(message: dict[str, Any]) -> list[str]:
    """Every way ``message`` breaks Slack's documented Block Kit limits (empty list: valid).

    >>> validate_message({"blocks": [{"type": "header", "text": {"type": "plain_text",
    ...     "text": "x" * 151}}]})
    ['text: required as the notification fallback', 'blocks[0].text: header at most 150 characters']
    """
    problems = []
    if not isinstance(message.get("text"), str) or not message["text"]:
        problems.append("text: required as the notification fallback")
    blocks = message.get("blocks") or []
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"blocks: at most {MAX_BLOCKS} (got {len(blocks)})")
    for i, block in enumerate(blocks):
        text = (block.get("text") or {}).get("text", "")
        if block.get("type") == "header" and len(text) > MAX_HEADER:
            problems.append(f"blocks[{i}].text: header at most {MAX_HEADER} characters")
        if block.get("type") == "section":
            if len(text) > MAX_SECTION:
                problems.append(f"blocks[{i}].text: section at most {MAX_SECTION} characters")
            fields = block.get("fields") or []
            if len(fields) > MAX_FIELDS or any(len(f.get("text", "")) > MAX_FIELD for f in fields):
                problems.append(f"blocks[{i}].fields: at most {MAX_FIELDS} of {MAX_FIELD} chars")
    return problems


class SlackNotifier:
    """Posts Block Kit messages to one incoming webhook (its URL is the secret)."""

    def __init__(self, name: str, client: httpx.AsyncClient, webhook_url: Secret) -> None:
        self.name, self.client, self._url = name, client, webhook_url

    async def send(self, action: Action) -> None:
        message = build_message(action)
        problems = validate_message(message)
        if problems:
            raise DeliveryError(
                self.name, "invalid message: " + "; ".join(problems), retryable=False
            )
        url = self._url.reveal()
        await post_json(self.client, self.name, url, orjson.dumps(message), {}, (url,))
