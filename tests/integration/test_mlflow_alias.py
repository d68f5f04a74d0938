"""The MLflow alias move against a real local HTTP server speaking MLflow's REST shape."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest

from connectors.mlflow import MlflowError, apply_fallback, switch_alias
from engine.events import Action


class Registry(BaseHTTPRequestHandler):
    requests: ClassVar[list[tuple[str, dict]]] = []
    script: ClassVar[list[int]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Registry.requests.append((self.path, body))
        status = Registry.script.pop(0) if Registry.script else 200
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def registry() -> Iterator[str]:
    Registry.requests, Registry.script = [], []
    server = HTTPServer(("127.0.0.1", 0), Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.mark.integration
def test_fallback_action_moves_alias(registry: str) -> None:
    action = Action(
        "act-1",
        1.0,
        "inc-1",
        "model-control",
        "model_control",
        "k",
        {"mlflow": {"name": "fraud-detector", "alias": "champion", "version": "3"}},
    )
    assert apply_fallback(action, registry, timeout_s=2.0)
    assert Registry.requests == [
        (
            "/api/2.0/mlflow/registered-models/alias",
            {"name": "fraud-detector", "alias": "champion", "version": "3"},
        )
    ]


@pytest.mark.integration
def test_server_errors_are_retryable_and_client_errors_are_not(registry: str) -> None:
    Registry.script = [503, 404]
    with pytest.raises(MlflowError) as first:
        switch_alias(registry, "m", "champion", "1", timeout_s=2.0)
    with pytest.raises(MlflowError) as second:
        switch_alias(registry, "m", "champion", "1", timeout_s=2.0)
    assert first.value.retryable
    assert not second.value.retryable
