"""Run the HTTP API on its own event loop in a background thread (for synchronous runtimes).

The embedded replay runtime is a plain loop; ``BackgroundServer`` lets it serve ``/metrics``,
the incidents API and ingest while it runs. Thread safety: ``IncidentView`` listeners hop to
the server loop with ``call_soon_threadsafe`` and ``QueueIngest`` is a thread-safe queue.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from aiohttp import web

from connectors.http.server import bound_port, start_http_server
from connectors.http.state import AppState

T = TypeVar("T")


@dataclass(slots=True)
class BackgroundServer:
    """``start()`` blocks until the server listens; ``port`` is then the bound port."""

    state: AppState
    host: str = "127.0.0.1"
    port: int = 0
    _loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    _thread: threading.Thread | None = None
    _runner: web.AppRunner | None = None

    def start(self, timeout_s: float = 10.0) -> BackgroundServer:
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="vigil-http", daemon=True
        )
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(
            start_http_server(self.state, self.host, self.port), self._loop
        )
        self._runner = started.result(timeout_s)
        self.port = bound_port(self._runner)
        return self

    def call_soon(self, callback: Callable[..., object], *args: object) -> None:
        """Run ``callback(*args)`` on the server's loop (where handlers read ``state``)."""
        self._loop.call_soon_threadsafe(callback, *args)

    def run(self, callback: Callable[..., T], *args: object, timeout_s: float = 10.0) -> T:
        """Run ``callback(*args)`` on the server's loop and wait for its result."""

        async def call() -> T:
            return callback(*args)

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(timeout_s)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout_s)
            self._runner = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout_s)
        self._loop.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
