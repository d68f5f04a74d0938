"""Generic webhook: the action as JSON, signed so the receiver can trust and de-duplicate it.

Headers: ``X-Vigil-Timestamp`` (Unix seconds), ``X-Vigil-Signature``
(``sha256=`` + hex HMAC-SHA256 with the shared secret over ``timestamp + "." + body``), and
``Idempotency-Key`` (the action id). A receiver rejects signatures older than a few minutes
(``verify_signature``), which stops replays of captured requests.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

import httpx
import orjson

from connectors.notify.http import post_json
from connectors.secrets import Secret
from engine.events import Action


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` over ``timestamp.body``.

    >>> sign("k", "1700000000", b"{}")[:15]
    'sha256=c6ef4734'
    """
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str, timestamp: str, body: bytes, signature: str, now_s: float, tolerance_s: float = 300
) -> bool:
    """True if ``signature`` is ours for this body and the timestamp is recent enough."""
    try:
        age = abs(now_s - float(timestamp))
    except ValueError:
        return False
    return age <= tolerance_s and hmac.compare_digest(sign(secret, timestamp, body), signature)


def build_body(action: Action) -> dict[str, Any]:
    return {
        "action": action.to_wire(),
        "event": action.payload.get("event"),
        "incident": action.payload.get("incident"),
    }


class WebhookNotifier:
    """POSTs signed JSON to a fixed URL (the URL may itself be a secret reference)."""

    def __init__(
        self,
        name: str,
        client: httpx.AsyncClient,
        url: Secret,
        secret: Secret,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.name, self.client, self._url, self._secret = name, client, url, secret
        self.wall_clock = wall_clock

    async def send(self, action: Action) -> None:
        body = orjson.dumps(build_body(action))
        stamp = str(int(self.wall_clock()))
        key = self._secret.reveal()
        headers = {
            "X-Vigil-Timestamp": stamp,
            "X-Vigil-Signature": sign(key, stamp, body),
            "Idempotency-Key": action.id,
        }
        url = self._url.reveal()
        await post_json(self.client, self.name, url, body, headers, (key, url))
