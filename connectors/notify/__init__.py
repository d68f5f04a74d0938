"""Receiver connectors, one module per receiver type, and ``open_links`` to build them all.

Secrets are resolved here, once, from the environment or files the rules name; a missing
secret of an enabled receiver stops start-up with a message naming the variable or file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

import httpx

from connectors.delivery import Link, Notifier
from connectors.errors import ConnectorError
from connectors.notify import pagerduty, slack
from connectors.notify.console import ConsoleNotifier
from connectors.notify.file import FileNotifier
from connectors.notify.http import new_client
from connectors.notify.pagerduty import PagerDutyNotifier
from connectors.notify.runbook import RunbookNotifier
from connectors.notify.slack import SlackNotifier
from connectors.notify.webhook import WebhookNotifier
from connectors.secrets import Secret, resolve_secret
from engine.rules.routing import Receiver, RoutingRules

_DEFAULT_RATE_PER_MIN = {"slack": slack.RATE_PER_MIN, "pagerduty": pagerduty.RATE_PER_MIN}
CONCURRENCY = {"webhook": 4, "runbook": 4}
"""Requests in flight per receiver; every other type (Slack, PagerDuty, console, file): 1."""


def open_links(
    rules: RoutingRules,
    env: Mapping[str, str],
    out_dir: Path,
    stream: TextIO | None = None,
) -> tuple[dict[str, Link], list[httpx.AsyncClient]]:
    """A ``Link`` per enabled receiver, and the HTTP clients to close when done."""
    links: dict[str, Link] = {}
    clients: list[httpx.AsyncClient] = []
    for receiver in rules.receivers:
        if not receiver.enabled:
            continue
        client = new_client(receiver.timeout) if receiver.type not in ("console", "file") else None
        if client is not None:
            clients.append(client)
        rate = receiver.rate_per_min or _DEFAULT_RATE_PER_MIN.get(receiver.type)
        links[receiver.name] = Link(
            _notifier(receiver, env, out_dir, stream, client),
            timeout_s=receiver.timeout,
            deadline_s=receiver.deadline,
            rate_per_s=None if rate is None else rate / 60.0,
            concurrency=receiver.concurrency or CONCURRENCY.get(receiver.type, 1),
        )
    return links, clients


def _notifier(
    receiver: Receiver,
    env: Mapping[str, str],
    out_dir: Path,
    stream: TextIO | None,
    client: httpx.AsyncClient | None,
) -> Notifier:
    name = receiver.name
    if receiver.type == "console" or client is None:
        if receiver.type == "file":
            return FileNotifier(name, out_dir / (receiver.path or f"{name}.jsonl"))
        return ConsoleNotifier(name, stream)
    if receiver.type == "slack":
        return SlackNotifier(name, client, _needed(receiver, "webhook_url", env))
    if receiver.type == "pagerduty":
        return PagerDutyNotifier(name, client, _needed(receiver, "routing_key", env), receiver.url)
    if receiver.type == "webhook":
        url = Secret(receiver.url) if receiver.url else _needed(receiver, "url", env)
        return WebhookNotifier(name, client, url, _needed(receiver, "secret", env))
    token = resolve_secret(receiver, "token", env)
    return RunbookNotifier(name, client, str(receiver.url), receiver.params, token)


def _needed(receiver: Receiver, base: str, env: Mapping[str, str]) -> Secret:
    secret = resolve_secret(receiver, base, env)
    if secret is None:
        raise ConnectorError(f"receiver {receiver.name}: needs {base}_env or {base}_file")
    return secret
