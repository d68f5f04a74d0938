"""One JSON POST with a timeout, its failure classified; shared by the HTTP receivers."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence

import httpx

from connectors.retry import classify_exception, classify_http, parse_retry_after

# httpx logs every request URL at INFO (httpcore its traces at DEBUG); some URLs are secrets
# (Slack webhooks), so those loggers never speak below WARNING.
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).setLevel(logging.WARNING)


async def post_json(
    client: httpx.AsyncClient,
    sink: str,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[str] = (),
) -> httpx.Response:
    """POST ``body``; raise ``DeliveryError`` unless the answer is 2xx.

    ``secrets`` are masked in the whole error body before it is cut to length.

    The client carries the timeout; every call goes through it.
    """
    try:
        response = await client.post(
            url, content=body, headers={"Content-Type": "application/json", **headers}
        )
    except httpx.HTTPError as exc:
        raise classify_exception(sink, exc) from None
    retry_after = parse_retry_after(response.headers.get("Retry-After"), time.time())
    error = classify_http(sink, response.status_code, response.text, retry_after, secrets)
    if error is not None:
        raise error
    return response


def new_client(timeout_s: float) -> httpx.AsyncClient:
    """An HTTP client whose every call times out after ``timeout_s`` (connect, read, write)."""
    return httpx.AsyncClient(timeout=httpx.Timeout(timeout_s), follow_redirects=False)
