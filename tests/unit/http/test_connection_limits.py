"""The connection cap (503 past it) and the keep-alive request limit, on real sockets."""

from __future__ import annotations

import socket

import httpx

from connectors.http.guard import connection_cap
from connectors.http.state import AppState
from connectors.http.thread import BackgroundServer
from engine.rules.runtime import HttpLimits

HEALTH = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def _status_line(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(HEALTH)
        return sock.makefile("rb").readline()


def test_connections_past_the_cap_get_503_and_a_freed_slot_serves_again() -> None:
    limits = HttpLimits(max_connections=5, header_timeout=600)
    with BackgroundServer(AppState(limits=limits)) as server:
        idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(5)]
        try:
            refused = _status_line(server.port)
            assert refused.startswith(b"HTTP/1.1 503"), refused
            idle.pop().close()
            for _ in range(100):  # until the server has seen the close
                answer = _status_line(server.port)
                if answer.startswith(b"HTTP/1.1 200"):
                    break
            assert answer.startswith(b"HTTP/1.1 200"), answer
        finally:
            for sock in idle:
                sock.close()
        rendered = server.state.metrics.render()[0].decode()
        assert 'route="connection",status="503"' in rendered


def test_keep_alive_connection_is_closed_after_its_request_limit() -> None:
    limits = HttpLimits(max_requests_per_connection=3)
    with (
        BackgroundServer(AppState(limits=limits)) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        answers = [client.get("/healthz").headers.get("Connection", "") for _ in range(3)]
    assert [a.lower() for a in answers] == ["", "", "close"]


def test_cap_leaves_a_quarter_of_the_file_descriptors_free() -> None:
    assert connection_cap(HttpLimits(max_connections=10_000), nofile=256) == 192
    assert connection_cap(HttpLimits(max_connections=10_000), nofile=64) == 32
    assert connection_cap(HttpLimits(max_connections=50), nofile=1_000_000) == 50
