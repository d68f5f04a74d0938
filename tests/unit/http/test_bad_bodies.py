"""Bodies a client breaks: a junk compressed body is 400 (b"junk" as deflate used to hang in
aiohttp's decoder), a hang-up mid-body is a quiet close, a body that stops arriving is 408."""

from __future__ import annotations

import logging
import socket
import time

import httpx
import pytest

from connectors.http.state import AppState
from connectors.http.thread import BackgroundServer
from engine.rules.runtime import HttpLimits


@pytest.mark.parametrize("encoding", ["deflate", "gzip"])
@pytest.mark.parametrize("body", [b"not compressed at all", b"junk"])
def test_junk_compressed_body_is_400_not_500(
    client: httpx.Client,
    auth: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    encoding: str,
    body: bytes,
) -> None:
    headers = {**auth, "Content-Encoding": encoding, "Content-Type": "application/json"}
    with caplog.at_level(logging.ERROR, logger="vigil.http"):
        response = client.post("/api/v1/alerts", content=body, headers=headers)
    assert response.status_code == 400
    assert encoding in response.json()["error"] or "encod" in response.json()["error"]
    assert not [r for r in caplog.records if r.exc_info], "no traceback for a client's mistake"


def _wait_for(condition: object, within_s: float = 30.0) -> None:
    deadline = time.monotonic() + within_s
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.05)


def test_client_hanging_up_mid_body_is_a_quiet_close(
    server: BackgroundServer, app_state: AppState, caplog: pytest.LogCaptureFixture
) -> None:
    head = (
        b"POST /api/v1/alerts HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer test-token-123\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n"
    )
    with caplog.at_level(logging.DEBUG, logger="vigil.http"):
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(head + b'{"alerts": [')
            time.sleep(0.2)  # let the handler start reading the body
        counter = app_state.metrics.http_requests

        def settled() -> bool:
            samples = counter.collect()[0].samples
            return any(s.labels.get("route") == "/api/v1/alerts" for s in samples)

        _wait_for(settled)
    statuses = {
        s.labels["status"]
        for s in app_state.metrics.http_requests.collect()[0].samples
        if s.labels.get("route") == "/api/v1/alerts" and s.name.endswith("_total")
    }
    assert "500" not in statuses
    assert not [r for r in caplog.records if r.exc_info], "no traceback for a hang-up"


def test_ingest_body_that_stops_arriving_gets_503_so_the_sender_retries() -> None:
    limits = HttpLimits(body_timeout=0.5)
    head = (
        b"POST /api/v1/alerts HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer t\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n"
    )
    with (
        BackgroundServer(AppState(token="t", limits=limits)) as server,
        socket.create_connection(("127.0.0.1", server.port)) as sock,
    ):
        sock.sendall(head + b'{"alerts": [')
        sock.settimeout(60)  # a hang fails; an answer after any delay passes
        answer = sock.makefile("rb").read()
    assert answer.startswith(b"HTTP/1.1 503"), answer
    assert b"Retry-After: 1" in answer
