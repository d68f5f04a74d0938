"""Model control in embedded mode: ``model_control`` actions (``switch_to_fallback_model``).

The Kafka worker publishes these actions to the model-control topic; the embedded runtime
(``vigil replay`` / ``vigil demo``) writes each one, with its payload, as one line of
``model_control.jsonl`` in the output folder instead (same record, once per action id in a
process; after a restart an action still pending in the outbox may be written again, so
consumers de-duplicate by ``id`` as they do on the topic). Then, when the action carries an
``mlflow`` target (``monitoring.actions.fallback`` with a ``version``) and an MLflow server is
configured, the registered-model alias is moved over MLflow's REST API
(``connectors.mlflow.alias_request``). MLflow is configured by its own environment variables:
``MLFLOW_TRACKING_URI`` (an ``http(s)://`` URL; other URIs are ignored) and, optionally,
``MLFLOW_TRACKING_TOKEN`` (sent as a bearer token). Timeouts, resets, 5xx and 429 are retried
by the dispatcher; other 4xx fail the action with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import httpx

from connectors.mlflow import alias_request
from connectors.notify.file import ActionFile
from connectors.notify.http import post_json
from engine.events import Action

RECEIVER = "model-control"
"""The receiver name ``engine.act.retrain`` gives ``model_control`` actions."""
OUTPUT_FILE = "model_control.jsonl"


class ModelControlNotifier:
    """Writes the action to ``path``; then moves the MLflow alias when asked and configured."""

    def __init__(
        self,
        path: Path,
        client: httpx.AsyncClient | None = None,
        mlflow_url: str | None = None,
        token: str | None = None,
        name: str = RECEIVER,
    ) -> None:
        self.name, self.path, self.client = name, path, client
        self.mlflow_url, self._token = mlflow_url, token
        self._written: set[str] = set()
        self.file = ActionFile(name, path)

    async def send(self, action: Action) -> None:
        if action.id not in self._written:
            self.file.append(action)
            self._written.add(action.id)
        target = action.payload.get("mlflow")
        if self.client is None or not self.mlflow_url or not isinstance(target, dict):
            return
        request = alias_request(self.mlflow_url, target, self._token)
        if request is None:
            return
        url, body, headers = request
        secrets = (self._token,) if self._token else ()
        await post_json(self.client, self.name, url, body, headers, secrets)


def open_model_control(
    env: Mapping[str, str], out_dir: Path, timeout_s: float = 10.0
) -> tuple[ModelControlNotifier, httpx.AsyncClient | None]:
    """The embedded model-control receiver, and its HTTP client (None without MLflow)."""
    url = env.get("MLFLOW_TRACKING_URI", "")
    if not url.startswith(("http://", "https://")):
        return ModelControlNotifier(out_dir / OUTPUT_FILE), None
    from connectors.notify.http import new_client

    client = new_client(timeout_s)
    token = env.get("MLFLOW_TRACKING_TOKEN") or None
    return ModelControlNotifier(out_dir / OUTPUT_FILE, client, url, token), client
