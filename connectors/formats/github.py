"""GitHub ``deployment_status`` webhook events -> ``Change`` records (docs/ingest.md).

GitHub sends ``deployment_status`` (header ``X-GitHub-Event``) each time a deployment's status
is created: ``queued``, ``pending``, ``in_progress``, then ``success``, ``failure`` or ``error``
(and ``inactive`` for a superseded one). A terminal status (success, failure, error) is one
change: a rollout that failed may still have changed what runs. The others are answered and
ignored.

* ``kind`` ``deploy``; ``ts`` the status' ``created_at``;
* ``service``: ``deployment.payload.service`` when the deployment was created with one, else
  the ``service`` query parameter of the webhook URL, else the repository's name;
* ``version``: ``deployment.payload.version``, else the first 12 digits of ``deployment.sha``;
* ``labels``: ``env`` (the environment), ``state``, ``repository``, ``ref``, ``sha``, and
  ``url`` (``log_url`` or ``target_url``) when set; ``description`` says what happened.
"""

from __future__ import annotations

from typing import Final

from engine.events import Change
from engine.ingest.errors import FieldError
from engine.ingest.timestamps import to_epoch_s
from engine.ingest.values import json_type

TERMINAL_STATES: Final = frozenset({"success", "failure", "error"})


def _object(obj: dict[str, object], key: str) -> dict[str, object]:
    value = obj.get(key)
    if not isinstance(value, dict):
        raise FieldError(f"{key}: must be an object (got {json_type(value)})")
    return value


def _text(obj: dict[str, object], key: str, where: str) -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FieldError(f"{where}.{key}: must be a string (got {json_type(value)})")
    return value


def deployment_state(payload: dict[str, object]) -> str:
    """The status' ``state`` (``FieldError`` if there is none)."""
    state = _text(_object(payload, "deployment_status"), "state", "deployment_status")
    if not state:
        raise FieldError("deployment_status.state: required")
    return state


def decode_deployment_status(payload: dict[str, object], service_hint: str | None) -> Change:
    """The change a terminal ``deployment_status`` event describes; ``FieldError`` if malformed.

    >>> event = {"deployment_status": {"state": "success", "environment": "production",
    ...          "created_at": "2019-05-15T15:20:55Z"}, "deployment": {"sha": "f95f852bd8fca8f"
    ...          "cc58a9a2d6c842781e32a215e", "ref": "master", "task": "deploy", "payload": {}},
    ...          "repository": {"name": "Hello-World", "full_name": "Codertocat/Hello-World"}}
    >>> c = decode_deployment_status(event, None)
    >>> c.kind, c.service, c.version, c.ts, c.labels["env"]
    ('deploy', 'Hello-World', 'f95f852bd8fc', 1557933655.0, 'production')
    """
    status, deployment = _object(payload, "deployment_status"), _object(payload, "deployment")
    repository = _object(payload, "repository")
    extra = deployment.get("payload")
    extra = extra if isinstance(extra, dict) else {}
    state = deployment_state(payload)
    sha = _text(deployment, "sha", "deployment")
    service = _payload_text(extra, "service") or service_hint or _text(repository, "name", "")
    if not service:
        raise FieldError("repository.name: required (or deployment.payload.service)")
    labels = _labels(status, deployment, repository, state)
    environment = labels["env"]
    task = _text(deployment, "task", "deployment") or "deploy"
    note = _text(status, "description", "deployment_status")
    description = f"{task} of {labels['repository']} {labels['ref']}@{sha[:7]} to {environment}"
    return Change(
        ts=to_epoch_s("deployment_status.created_at", status.get("created_at")),
        kind="deploy",
        service=service,
        version=_payload_text(extra, "version") or sha[:12] or None,
        description=f"{description}: {state}" + (f" ({note})" if note else ""),
        labels=labels,
    )


def _labels(
    status: dict[str, object],
    deployment: dict[str, object],
    repository: dict[str, object],
    state: str,
) -> dict[str, str]:
    environment = _text(status, "environment", "deployment_status") or _text(
        deployment, "environment", "deployment"
    )
    labels = {
        "env": environment,
        "state": state,
        "repository": _text(repository, "full_name", "repository"),
        "ref": _text(deployment, "ref", "deployment"),
        "sha": _text(deployment, "sha", "deployment"),
    }
    url = _text(status, "log_url", "deployment_status") or _text(
        status, "target_url", "deployment_status"
    )
    if url:
        labels["url"] = url
    return labels


def _payload_text(extra: dict[str, object], key: str) -> str | None:
    value = extra.get(key)
    return value if isinstance(value, str) and value else None
