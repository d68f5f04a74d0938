"""Move an MLflow registered-model alias over MLflow's REST API (fallback model switch).

``switch_alias(base_url, name, alias, version)`` calls
``POST {base_url}/api/2.0/mlflow/registered-models/alias`` with ``{"name", "alias",
"version"}``. Every call has a timeout. Failures raise ``MlflowError`` with ``retryable`` set
for timeouts, connection errors, HTTP 5xx and 429 (the runtime retries those) and unset for
other 4xx. ``alias_request`` builds the same call for an async client (the embedded
runtime's ``connectors.notify.model_control``). ``apply_fallback(action, base_url)`` applies
a ``model_control`` action whose payload carries ``mlflow`` (see ``engine.act.retrain``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from engine.events import Action

ALIAS_PATH = "/api/2.0/mlflow/registered-models/alias"


class MlflowError(Exception):
    def __init__(self, detail: str, *, retryable: bool) -> None:
        super().__init__(f"mlflow: {detail}")
        self.retryable = retryable


def switch_alias(
    base_url: str,
    name: str,
    alias: str,
    version: str,
    *,
    timeout_s: float = 10.0,
    token: str | None = None,
) -> None:
    """Point ``alias`` of registered model ``name`` at ``version``."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = f"{base_url.rstrip('/')}{ALIAS_PATH}"
    try:
        response = httpx.post(
            url,
            json={"name": name, "alias": alias, "version": version},
            headers=headers,
            timeout=timeout_s,
        )
    except httpx.TransportError as exc:
        raise MlflowError(f"{url}: {exc!r}", retryable=True) from exc
    if response.status_code >= 300:
        retryable = response.status_code >= 500 or response.status_code == 429
        detail = f"{url}: HTTP {response.status_code}: {response.text[:200]}"
        raise MlflowError(detail, retryable=retryable)


def apply_fallback(action: Action, base_url: str, *, timeout_s: float = 10.0) -> bool:
    """Move the alias a ``model_control`` action asks for; False when it asks for none."""
    target = action.payload.get("mlflow")
    if action.type != "model_control" or not isinstance(target, dict):
        return False
    version = target.get("version")
    if not isinstance(version, str):
        return False
    switch_alias(base_url, str(target["name"]), str(target["alias"]), version, timeout_s=timeout_s)
    return True


def alias_request(
    base_url: str, target: Mapping[str, Any], token: str | None = None
) -> tuple[str, bytes, dict[str, str]] | None:
    """``(url, JSON body, headers)`` of the alias move an action's ``mlflow`` target asks for;
    None when it names no version.

    >>> url, body, headers = alias_request(
    ...     "http://mlflow:5000/", {"name": "m", "alias": "champion", "version": "3"})
    >>> url
    'http://mlflow:5000/api/2.0/mlflow/registered-models/alias'
    >>> body, headers
    (b'{"name":"m","alias":"champion","version":"3"}', {})
    """
    version = target.get("version")
    if not isinstance(version, str):
        return None
    body = {"name": str(target["name"]), "alias": str(target["alias"]), "version": version}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return f"{base_url.rstrip('/')}{ALIAS_PATH}", orjson.dumps(body), headers
