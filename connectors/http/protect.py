"""Browser protections: security headers on every response and a ``Host`` allow-list.

Every response carries a Content-Security-Policy that allows only the console's own files
(no inline script, no framing), ``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff``
and ``Referrer-Policy: no-referrer``.

DNS rebinding (a page on a name the attacker controls, re-pointed at 127.0.0.1) would let a
browser read the open read API; such a request carries the attacker's name in ``Host``. So a
request is answered only when its ``Host`` is an IP address, ``localhost``, the address the
server is bound to, or a name in ``runtime.http.allowed_hosts`` (``"*"``: any); otherwise 421.
``/healthz``, ``/readyz`` and ``/metrics`` answer any ``Host`` (probes and scrapers use
service names; they hold no incident data).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Final

import orjson
from aiohttp import web

SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
ANY_HOST_PATHS: Final = frozenset({"/healthz", "/readyz", "/metrics"})
LOCAL_NAMES: Final = frozenset({"localhost", "localhost."})
WILDCARD_BINDS: Final = frozenset({"", "0.0.0.0", "::"})  # noqa: S104  (names, not a bind)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def add_security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare`` hook: the headers above, on every response (errors included)."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def host_name(host: str) -> str:
    """The name part of a ``Host`` header, lower case, without port or IPv6 brackets.

    >>> host_name("Example.org:8080"), host_name("[::1]:80"), host_name("10.0.0.1")
    ('example.org', '::1', '10.0.0.1')
    """
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    name, _, _port = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
    return name


def host_allowed(host: str, bound: str, allowed: Iterable[str]) -> bool:
    """Whether a request with this ``Host`` header may be answered (see the module docstring).

    >>> host_allowed("127.0.0.1:8080", "127.0.0.1", ()), host_allowed("localhost", "::", ())
    (True, True)
    >>> host_allowed("evil.example:8080", "127.0.0.1", ())
    False
    >>> host_allowed("vigil:9108", "", ["vigil"])
    True
    """
    names = {a.strip().lower() for a in allowed}
    if "*" in names:
        return True
    name = host_name(host)
    if not name:
        return False
    if name in LOCAL_NAMES or name in names or name == bound.strip().lower():
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def host_middleware(bound: str, allowed: Iterable[str]) -> Any:
    """Answers 421 to a request whose ``Host`` is not allowed (``host_allowed``)."""
    allowed = tuple(allowed)
    bound = "" if bound in WILDCARD_BINDS else bound

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        host = request.headers.get("Host")  # none: not a browser (they always send it)
        if host is None or request.path in ANY_HOST_PATHS or host_allowed(host, bound, allowed):
            return await handler(request)
        reason = "unknown Host header; add it to runtime.http.allowed_hosts to serve it"
        return web.Response(
            body=orjson.dumps({"error": reason}), status=421, content_type="application/json"
        )

    return middleware
