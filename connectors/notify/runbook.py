"""Runbook hook: POST templated parameters to a URL fixed in config (never a shell command).

Templates (``${incident}``, ``${node}``, ``${severity}``, ``${status}``, ``${summary}``,
``${event}``, ``${service}`` and ``${label_<name>}``) fill the JSON body only; the URL's
scheme, host and path come verbatim from the rules (checked at load), so an incident's data can
never redirect the call (no SSRF). Values are substituted as plain strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from string import Template
from typing import Any

import httpx
import orjson

from connectors.notify.http import post_json
from connectors.secrets import Secret
from engine.events import Action, json_object


def template_values(action: Action) -> dict[str, str]:
    incident: dict[str, Any] = json_object(action.payload.get("incident"))
    labels: dict[str, Any] = json_object(action.payload.get("labels"))
    values = {f"label_{k}": str(v) for k, v in labels.items()}
    values.update(
        incident=action.incident,
        node=str(labels.get("node", "")),
        service=str(labels.get("service", "")),
        severity=str(incident.get("severity", "")),
        status=str(incident.get("status", "")),
        summary=str(incident.get("summary", "")),
        event=str(action.payload.get("event", "")),
    )
    return values


def render_params(params: Mapping[str, str], action: Action) -> dict[str, str]:
    """Fill each template; unknown names stay as written (``safe_substitute``).

    >>> from engine.events import Action, json_object
    >>> a = Action("act-1", 0.0, "inc-1", "rb", "runbook", "inc-1",
    ...            {"labels": {"node": "payments"}, "incident": {"severity": "critical"}})
    >>> render_params({"deployment": "${node}", "why": "${severity} ${nope}"}, a)
    {'deployment': 'payments', 'why': 'critical ${nope}'}
    """
    values = template_values(action)
    return {k: Template(v).safe_substitute(values) for k, v in params.items()}


class RunbookNotifier:
    """POSTs ``{"params": ..., "incident": ..., "action_id": ...}`` to the fixed URL."""

    def __init__(
        self,
        name: str,
        client: httpx.AsyncClient,
        url: str,
        params: Mapping[str, str],
        token: Secret | None = None,
    ) -> None:
        self.name, self.client, self.url, self.params, self._token = (
            name,
            client,
            url,
            params,
            token,
        )

    async def send(self, action: Action) -> None:
        body = {
            "params": render_params(self.params, action),
            "incident": action.incident,
            "event": action.payload.get("event"),
            "action_id": action.id,
        }
        headers = {"Idempotency-Key": action.id}
        secrets: tuple[str, ...] = ()
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token.reveal()}"
            secrets = (self._token.reveal(),)
        await post_json(self.client, self.name, self.url, orjson.dumps(body), headers, secrets)
