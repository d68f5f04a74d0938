"""A real local HTTP receiver on 127.0.0.1:0 that records requests and misbehaves on script.

Script entries are consumed per request, in order: an int status (``503``), ``("429", s)`` for
a 429 with ``Retry-After: s``, ``"slow"`` (answer after ``slow_s``, beyond the client timeout),
``"reset"`` (close the connection without answering). When the script is empty the receiver
answers ``default`` (200), or fails with ``fail_rate`` probability (seeded). Every answer can
be held back ``delay_s``; error answers carry ``error_body``. Each request records when it
arrived and when it was answered (``arrived``, ``at``).
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Request:
    at: float
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    arrived: float = 0.0


@dataclass
class Receiver:
    script: list[Any] = field(default_factory=list)
    default: int = 200
    fail_rate: float = 0.0
    slow_s: float = 1.0
    delay_s: float = 0.0
    error_body: str = "nope"
    seed: int = 1
    requests: list[Request] = field(default_factory=list)
    down_until: float = 0.0
    url: str = ""

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def accepted(self) -> list[Request]:
        return [r for r in self.requests if 200 <= r.status < 300]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        body = await request.read()
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        step = self.script.pop(0) if self.script else None
        status = self.default
        down = time.monotonic() < self.down_until
        if down or (step is None and self.fail_rate and self.rng.random() < self.fail_rate):
            status = 503
        headers: dict[str, str] = {}
        if step == "reset":
            self._record(request, body, 0, arrived)
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=500)
        if step == "slow":
            await asyncio.sleep(self.slow_s)
            status = 200
        elif isinstance(step, tuple):
            status, headers = 429, {"Retry-After": str(step[1])}
        elif isinstance(step, int):
            status = step
        self._record(request, body, status, arrived)
        text = "ok" if status < 300 else self.error_body
        return web.Response(status=status, text=text, headers=headers)

    def _record(self, request: web.Request, body: bytes, status: int, arrived: float) -> None:
        self.requests.append(
            Request(time.monotonic(), request.path, dict(request.headers), body, status, arrived)
        )


async def start_receiver(receiver: Receiver) -> web.AppRunner:
    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    receiver.url = f"http://127.0.0.1:{port}"
    return runner


class ReceiverThread:
    """Runs a ``Receiver`` on its own event loop in a thread (the code under test has its own)."""

    def __init__(self, receiver: Receiver) -> None:
        import threading

        self.receiver = receiver
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.runner = self.loop.run_until_complete(start_receiver(self.receiver))
        self.ready.set()
        self.loop.run_forever()

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
