"""Request-size and JSON-shape limits for the write endpoints.

Bodies are read in chunks and abandoned as soon as they pass ``max_body_bytes`` (413), so a
huge or endless upload never sits in memory; a body that has not arrived in full within
``body_timeout`` gets 408, one whose ``Content-Encoding`` does not decode gets 400, and a
client that hangs up mid-body is counted as 499 (nobody is left to answer). JSON deeper than
``max_json_depth`` is refused (400) before any decoder recurses into it.
"""

from __future__ import annotations

import asyncio
import zlib
from typing import Any, Final

import orjson
from aiohttp import web

CHUNK_BYTES: Final = 64 * 1024


class RequestRefusedError(Exception):
    """A request that gets a 4xx answer; ``status`` and ``reason`` go into the response."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"HTTP {status}: {reason}")
        self.status, self.reason = status, reason


CLIENT_GONE: Final = 499
"""The status counted for a client that closed its connection before its request was read."""


async def read_body(request: web.Request, max_bytes: int, timeout_s: float = 30.0) -> bytes:
    """The whole request body, or ``RequestRefusedError``: 413 once it is over ``max_bytes``,
    408 past ``timeout_s``, 400 if it does not decode, 499 if the client hung up."""
    raw = await read_raw_body(request, max_bytes, timeout_s)
    return decoded(raw, request.headers.get("Content-Encoding", ""), max_bytes)


async def read_raw_body(request: web.Request, max_bytes: int, timeout_s: float = 30.0) -> bytes:
    """The body as sent, ``Content-Encoding`` left in place (Prometheus remote write is snappy,
    which only its endpoint decodes); refusals as ``read_body``."""
    declared = request.content_length
    if declared is not None and declared > max_bytes:
        raise RequestRefusedError(413, f"body of {declared} bytes is over the limit of {max_bytes}")
    try:
        async with asyncio.timeout(timeout_s):
            raw = await _read_chunks(request, max_bytes)
    except TimeoutError:
        raise RequestRefusedError(408, f"body not received within {timeout_s:g} s") from None
    except web.RequestPayloadError as exc:
        cause = exc.__cause__ or exc
        raise RequestRefusedError(400, f"unreadable body: {_reason(cause)}") from None
    except ConnectionError:
        raise RequestRefusedError(CLIENT_GONE, "client closed the connection") from None
    return raw


def decoded(raw: bytes, encoding: str, max_bytes: int) -> bytes:
    """``raw`` after its ``Content-Encoding`` (gzip, deflate), at most ``max_bytes`` of it.

    The server leaves bodies compressed (``auto_decompress=False``) so that a broken stream is
    a 400 here and a small bomb a 413, never a hung or failed request.

    >>> decoded(zlib.compress(b'{"a": 1}'), "deflate", 100)
    b'{"a": 1}'
    >>> decoded(b"junk", "deflate", 100)
    Traceback (most recent call last):
    ...
    connectors.http.limits.RequestRefusedError: HTTP 400: unreadable body: not valid deflate data
    """
    name = encoding.strip().lower()
    if name in ("", "identity"):
        return raw
    if name not in ("gzip", "x-gzip", "deflate"):
        raise RequestRefusedError(415, f"Content-Encoding {encoding!r}: use gzip or deflate")
    if name != "deflate":
        wbits = 16 + zlib.MAX_WBITS
    else:  # zlib-wrapped as the RFC says, or raw deflate as some clients send
        wbits = zlib.MAX_WBITS if raw[:1] and raw[0] & 0x0F == 8 else -zlib.MAX_WBITS
    stream = zlib.decompressobj(wbits)
    try:
        body = stream.decompress(raw, max_bytes + 1)
    except zlib.error:
        body = b""
    else:
        if len(body) > max_bytes:
            raise RequestRefusedError(413, f"decoded body is over the limit of {max_bytes} bytes")
        if stream.eof:
            return body
    raise RequestRefusedError(400, f"unreadable body: not valid {name} data")


def _reason(exc: BaseException) -> str:
    message = getattr(exc, "message", "") or str(exc)
    return str(message).strip() or type(exc).__name__


async def _read_chunks(request: web.Request, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.content.iter_chunked(CHUNK_BYTES):
        total += len(chunk)
        if total > max_bytes:
            raise RequestRefusedError(413, f"body is over the limit of {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes, max_depth: int) -> Any:
    """Strict JSON (UTF-8, no NaN/Infinity) of at most ``max_depth`` nested containers.

    >>> parse_json(b'{"a": [1, 2]}', 8)
    {'a': [1, 2]}
    >>> parse_json(b'[[[1]]]', 2)
    Traceback (most recent call last):
    ...
    connectors.http.limits.RequestRefusedError: HTTP 400: JSON nested deeper than 2 levels
    """
    if not body.strip():
        raise RequestRefusedError(400, "empty body: expected a JSON document")
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestRefusedError(400, f"invalid JSON: {exc}") from None
    if _deeper_than(value, max_depth):
        raise RequestRefusedError(400, f"JSON nested deeper than {max_depth} levels")
    return value


def _deeper_than(value: Any, max_depth: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        )
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > max_depth:
                    return True
                stack.append((child, depth + 1))
    return False


def count_alerts(value: Any) -> int:
    """How many alerts a payload carries: Alertmanager ``alerts[]``, a JSON array, or one."""
    if isinstance(value, dict) and isinstance(value.get("alerts"), list):
        return len(value["alerts"])
    if isinstance(value, list):
        return len(value)
    return 1
