"""The connection cap (503 past it) and the keep-alive request limit, on real sockets."""

from __future__ import annotations

import asyncio
import logging
import socket

import httpx
import pytest

from connectors.http.acceptlog import AcceptErrorLog
from connectors.http.guard import connection_cap
from connectors.http.state import AppState
from connectors.http.thread import BackgroundServer
from engine.rules.runtime import HttpLimits

HEALTH = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def _status_line(port: int) -> bytes:
    return _head(port).split(b"\r\n")[0] + b"\r\n"


def _head(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(HEALTH)
        return sock.makefile("rb").read().split(b"\r\n\r\n")[0]


def _streaming(port: int) -> socket.socket:
    """A connection whose request (the event stream) is being served, so it is busy."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(b"GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    received = b""
    while b"retry:" not in received:
        received += sock.recv(4096)
    return sock


def _idle(port: int) -> socket.socket:
    """A keep-alive connection that got its answer and now waits (sends nothing more)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    received = b""
    while not received.endswith(b"}"):
        received += sock.recv(4096)
    return sock


def test_connections_past_the_cap_get_503_and_a_freed_slot_serves_again() -> None:
    limits = HttpLimits(max_connections=5, header_timeout=600)
    with BackgroundServer(AppState(limits=limits)) as server:
        busy = [_streaming(server.port) for _ in range(5)]
        try:
            refused = _head(server.port)
            assert refused.startswith(b"HTTP/1.1 503"), refused
            assert b"Retry-After: 1" in refused
            assert b"X-Content-Type-Options: nosniff" in refused
            busy.pop().close()
            for _ in range(100):  # until the server has seen the close
                answer = _status_line(server.port)
                if answer.startswith(b"HTTP/1.1 200"):
                    break
            assert answer.startswith(b"HTTP/1.1 200"), answer
        finally:
            for sock in busy:
                sock.close()
        rendered = server.state.metrics.render()[0].decode()
        assert 'route="connection",status="503"' in rendered


def test_at_the_cap_a_new_client_displaces_the_longest_idle_connection() -> None:
    limits = HttpLimits(max_connections=5, header_timeout=600)
    with BackgroundServer(AppState(limits=limits)) as server:
        idle = [_idle(server.port) for _ in range(5)]
        try:
            assert _status_line(server.port).startswith(b"HTTP/1.1 200")
            assert _until_closed(idle[0]) == b""  # the one that waited longest made room
            idle.append(_idle(server.port))  # at the cap again
            assert _status_line(server.port).startswith(b"HTTP/1.1 200")
            assert _until_closed(idle[1]) == b""
        finally:
            for sock in idle:
                sock.close()
        rendered = server.state.metrics.render()[0].decode()
        assert 'route="connection",status="evicted"' in rendered


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


def _until_closed(sock: socket.socket) -> bytes:
    """Read until the server closes (EOF or reset); what it sent before."""
    received = b""
    sock.settimeout(60)  # a hang fails the test; a close after any delay passes it
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def test_a_request_head_that_never_completes_is_closed() -> None:
    limits = HttpLimits(header_timeout=0.5)
    with (
        BackgroundServer(AppState(limits=limits)) as server,
        socket.create_connection(("127.0.0.1", server.port)) as sock,
    ):
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n")
        assert _until_closed(sock) == b""


def test_an_idle_keep_alive_connection_is_closed_after_its_answer() -> None:
    limits = HttpLimits(header_timeout=0.5)
    with (
        BackgroundServer(AppState(limits=limits)) as server,
        socket.create_connection(("127.0.0.1", server.port)) as sock,
    ):
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert _until_closed(sock).startswith(b"HTTP/1.1 200")


def test_accept_errors_are_logged_once_per_interval_with_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    handler = AcceptErrorLog(None, every_s=10.0, clock=lambda: now[0])
    loop = asyncio.new_event_loop()
    context = {"message": "socket.accept() out of system resource", "exception": OSError(24)}
    try:
        with caplog.at_level(logging.ERROR, logger="vigil.http"):
            for _ in range(1000):
                handler(loop, context)
            now[0] = 10.0
            handler(loop, context)
    finally:
        loop.close()
    assert [r.getMessage().split(";")[1].strip() for r in caplog.records] == [
        "0 more since the last report (one per 10 s)",
        "999 more since the last report (one per 10 s)",
    ]


def test_event_streams_past_their_limit_get_503() -> None:
    with BackgroundServer(AppState(limits=HttpLimits(max_streams=2))) as server:
        streams = [_streaming(server.port) for _ in range(2)]
        try:
            third = httpx.get(f"{server.url}/api/v1/stream", timeout=30)
            assert third.status_code == 503
            assert third.headers["Retry-After"] == "5"
        finally:
            for sock in streams:
                sock.close()
