"""Request-size and JSON-shape limits for the write endpoints.

Bodies are read in chunks and abandoned as soon as they pass ``max_body_bytes`` (413), so a
huge or endless upload never sits in memory. JSON deeper than ``max_json_depth`` is refused
(400) before any decoder recurses into it.
"""

from __future__ import annotations

from typing import Any, Final

import orjson
from aiohttp import web

CHUNK_BYTES: Final = 64 * 1024


class RequestRefusedError(Exception):
    """A request that gets a 4xx answer; ``status`` and ``reason`` go into the response."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"HTTP {status}: {reason}")
        self.status, self.reason = status, reason


async def read_body(request: web.Request, max_bytes: int) -> bytes:
    """The whole request body, or ``RequestRefusedError(413)`` once it is over ``max_bytes``."""
    declared = request.content_length
    if declared is not None and declared > max_bytes:
        raise RequestRefusedError(413, f"body of {declared} bytes is over the limit of {max_bytes}")
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
