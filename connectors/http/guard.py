"""Connection limits of the HTTP server: what one client cannot take from everyone else.

* **Connection cap.** At most ``connection_cap(limits)`` connections are open at once. At the
  cap, a new connection first takes the place of the one that has waited longest for a
  request head (a slow or idle client; it is closed), so clients that send their request at
  once are still served while slow ones hold the slots. When every connection is busy with
  a request, a new one is answered ``503`` with ``Retry-After`` and closed, so a flood of
  connections never exhausts the process's file descriptors (``RLIMIT_NOFILE``): the
  descriptors the cap leaves free hold the refusals not yet closed (half of them; past that
  a connection is closed unanswered), the listen backlog (a quarter, at most 128: asyncio
  accepts that many at once) and the process's other files.
* **Header timeout.** A connection that has not sent a complete request line and headers
  within ``header_timeout`` of opening, or of its previous response, is closed (slowloris;
  this is also how long an idle keep-alive connection is kept).
* **Keep-alive limit.** Past ``max_requests_per_connection`` requests, the answer says
  ``Connection: close``.
* **Accept errors** (``socket.accept() out of system resource``) are logged once per
  ``LOG_EVERY_S`` with a count of the ones in between, not once per failed accept
  (``connectors/http/acceptlog.py``).

``GuardedSite`` is an aiohttp ``TCPSite`` whose protocol factory wraps aiohttp's: each
connection is counted and timed here and served by aiohttp as usual; ``guard_middleware`` tells
the guard when a request's head has arrived and when its response is done.
"""

from __future__ import annotations

import asyncio
import resource
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Final

import orjson
from aiohttp import web

from connectors.http.protect import SECURITY_HEADERS
from engine.rules.runtime import HttpLimits

REFUSE_LINGER_S: Final = 1.0
_REFUSAL: Final = orjson.dumps({"error": "too many open connections; retry shortly"})
_REFUSAL_HEAD: Final = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    + b"".join(f"{k}: {v}\r\n".encode() for k, v in SECURITY_HEADERS.items())
    + b"Retry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(_REFUSAL)
)


def connection_cap(limits: HttpLimits, nofile: int | None = None) -> int:
    """``max_connections``, lowered to leave a quarter of the open-file limit (at least 32) free.

    >>> connection_cap(HttpLimits(max_connections=1000), nofile=1024)
    768
    >>> connection_cap(HttpLimits(max_connections=100), nofile=1024)
    100
    """
    nofile = _nofile() if nofile is None else nofile
    return max(1, min(limits.max_connections, nofile - max(32, nofile // 4)))


def _nofile() -> int:
    """This process's soft open-file limit (a large number when unlimited)."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return 1 << 30 if soft == resource.RLIM_INFINITY or soft <= 0 else soft


class ConnectionGuard:
    """Counts open connections and enforces the header timeout and keep-alive limit."""

    def __init__(
        self,
        limits: HttpLimits,
        on_refused: Callable[[], None] | None = None,
        on_evicted: Callable[[], None] | None = None,
    ) -> None:
        nofile = _nofile()
        self.limits, self.cap = limits, connection_cap(limits, nofile)
        self.on_refused, self.on_evicted = on_refused, on_evicted
        free = nofile - self.cap  # what the cap leaves: accepts in flight, refusals, files
        self.backlog = max(8, min(128, free // 4))
        """Connections waiting to be accepted; asyncio accepts up to this many at once."""
        self.max_refusing = max(1, min(self.cap, free // 2))
        """Refusals (503) awaiting their close; past it a connection is closed unanswered."""
        self.open: dict[asyncio.BaseTransport, _Connection] = {}
        self.accepted: weakref.WeakSet[_Connection] = weakref.WeakSet()
        """Counted when accepted (before asyncio calls ``connection_made``); a connection
        that never got a transport is forgotten with its protocol object."""
        self.waiting: dict[_Connection, None] = {}
        """Connections waiting for a request head, longest waiting first."""
        self.refusing = 0

    def factory(self, make_handler: Callable[[], asyncio.Protocol]) -> Callable[[], Any]:
        """The protocol factory for ``loop.create_server``: aiohttp's handlers, guarded."""

        def make() -> asyncio.Protocol:
            if len(self.accepted) >= self.cap and not self._make_room():
                if self.on_refused is not None:
                    self.on_refused()
                return _Refuse(self)
            connection = _Connection(self, make_handler())
            self.accepted.add(connection)
            return connection

        return make

    def _make_room(self) -> bool:
        """Close the connection that has waited longest for a request head, if any."""
        for connection in self.waiting:
            if connection.evict():
                if self.on_evicted is not None:
                    self.on_evicted()
                return True
        return False

    def connection_of(self, request: web.BaseRequest) -> _Connection | None:
        transport = request.transport
        return self.open.get(transport) if transport is not None else None


class _Connection(asyncio.Protocol):
    """One accepted connection: aiohttp's handler plus a header timer and a request count."""

    def __init__(self, guard: ConnectionGuard, inner: asyncio.Protocol) -> None:
        self.guard, self.inner = guard, inner
        self.transport: asyncio.BaseTransport | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.requests = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.guard.open[transport] = self
        self.await_head()
        self.inner.connection_made(transport)

    def await_head(self) -> None:
        """Start the header timer: the next request's head must arrive in time."""
        self.cancel_timer()
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(self.guard.limits.header_timeout, self._head_too_slow)
        self.guard.waiting[self] = None

    def head_arrived(self) -> bool:
        """A request started; ``False`` once this connection has served its share."""
        self.cancel_timer()
        self.requests += 1
        return self.requests < self.guard.limits.max_requests_per_connection

    def cancel_timer(self) -> None:
        self.guard.waiting.pop(self, None)
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def evict(self) -> bool:
        """Close this connection to make room, unless it is still sending an answer."""
        transport = self.transport
        if not isinstance(transport, asyncio.Transport) or transport.is_closing():
            return False
        if transport.get_write_buffer_size() > 0:
            return False
        self.cancel_timer()
        self.guard.accepted.discard(self)
        transport.abort()
        return True

    def _head_too_slow(self) -> None:
        self.timer = None
        if not isinstance(self.transport, asyncio.Transport) or self.transport.is_closing():
            return
        if self.transport.get_write_buffer_size() > 0:  # still sending a response: not idle
            self.await_head()
            return
        self.transport.abort()

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self.cancel_timer()
        self.guard.accepted.discard(self)
        if self.transport is not None:
            self.guard.open.pop(self.transport, None)
        self.inner.connection_lost(exc)


class _Refuse(asyncio.Protocol):
    """A connection past the cap: ``503`` then close (after its request arrived, or soon)."""

    def __init__(self, guard: ConnectionGuard) -> None:
        self.guard, self.counted = guard, False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not isinstance(transport, asyncio.Transport):
            transport.close()
            return
        self.transport = transport
        if self.guard.refusing >= self.guard.max_refusing:  # a flood: no time for courtesy
            transport.abort()
            return
        self.guard.refusing, self.counted = self.guard.refusing + 1, True
        transport.write(_REFUSAL_HEAD + _REFUSAL)
        # Closing before the client's request is read could reset the connection and lose
        # the answer; wait for the request (or a moment), then close.
        asyncio.get_running_loop().call_later(REFUSE_LINGER_S, transport.close)

    def data_received(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.counted:
            self.guard.refusing, self.counted = self.guard.refusing - 1, False


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def guard_middleware(guard: ConnectionGuard) -> Any:
    """Marks each request's head as arrived (header timer off) and re-arms it afterwards."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        conn = guard.connection_of(request)
        if conn is None:
            return await handler(request)
        keep = conn.head_arrived()
        try:
            response = await handler(request)
        finally:
            conn.await_head()
        if not keep:
            response.force_close()
        return response

    return middleware


class GuardedSite(web.TCPSite):
    """A ``TCPSite`` whose connections go through ``guard`` (see the module docstring)."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, guard: ConnectionGuard):
        super().__init__(runner, host, port)
        self.guard = guard

    async def start(self) -> None:
        await web.BaseSite.start(self)
        loop = asyncio.get_running_loop()
        server = self._runner.server
        if server is None:
            raise RuntimeError("GuardedSite.start: the runner is not set up")
        self._server = await loop.create_server(
            self.guard.factory(server), self._host, self._port, backlog=self.guard.backlog
        )
