"""Fixtures: a real HTTP API server on 127.0.0.1:0 in a background thread, and an httpx client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from connectors.http.ingest import QueueIngest
from connectors.http.state import AppState
from connectors.http.thread import BackgroundServer
from engine.rules.runtime import HttpLimits

TOKEN = "test-token-123"


@pytest.fixture
def app_state() -> AppState:
    limits = HttpLimits(
        max_body_bytes=4096, max_ingest_body_bytes=4096, max_alerts_per_request=5, max_json_depth=8
    )
    return AppState(ingest=QueueIngest(maxsize=100), token=TOKEN, limits=limits)


@pytest.fixture
def server(app_state: AppState) -> Iterator[BackgroundServer]:
    with BackgroundServer(app_state) as running:
        yield running


@pytest.fixture
def client(server: BackgroundServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=5.0) as c:
        yield c


@pytest.fixture
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}
