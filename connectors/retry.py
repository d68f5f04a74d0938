"""Error classification and capped exponential backoff with jitter, shared by the sinks.

Retryable: timeouts, connection errors, HTTP 5xx and 429. Permanent: every other 4xx, bad
payloads, missing secrets. Retries stop at a deadline, never after a count; a ``Retry-After``
from the receiver is honoured (never retried sooner). Error details mask secrets first and are
cut to length after.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

from connectors.errors import DeliveryError
from connectors.safetext import clip, redact

MAX_ERROR_BODY = 200
"""Characters of a receiver's error body kept in the error (after secrets are masked)."""


def classify_http(
    sink: str,
    status: int,
    body: str,
    retry_after_s: float | None = None,
    secrets: Iterable[str] = (),
) -> DeliveryError | None:
    """``None`` for 2xx; otherwise the error, retryable for 5xx and 429.

    The body is cut to ``MAX_ERROR_BODY`` characters only after ``secrets`` are masked in it,
    so no part of a secret survives the cut.

    >>> str(classify_http("hook", 500, "E" * 195 + "s3cr3t-key", secrets=["s3cr3t-key"]))[-8:]
    'EEEEE***'
    """
    if 200 <= status < 300:
        return None
    retryable = status >= 500 or status == 429
    detail = clip(redact(body, secrets), MAX_ERROR_BODY)
    return DeliveryError(
        sink, f"HTTP {status}: {detail}", retryable=retryable, retry_after_s=retry_after_s
    )


def classify_exception(sink: str, exc: httpx.HTTPError) -> DeliveryError:
    """Transport failures (timeouts, resets, refused connections) are retryable.

    The message names the exception type only: httpx messages can contain the URL, and some
    URLs (Slack webhooks) are secrets.
    """
    kind = type(exc).__name__
    retryable = isinstance(exc, httpx.TransportError)
    return DeliveryError(sink, f"{kind}", retryable=retryable)


def parse_retry_after(value: str | None, now_s: float) -> float | None:
    """``Retry-After`` as seconds from now (delta-seconds or an HTTP date); ``None`` if absent.

    >>> parse_retry_after("3", 0.0), parse_retry_after(None, 0.0), parse_retry_after("x", 0.0)
    (3.0, None, None)
    """
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now_s)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay before attempt ``n + 1``: ``base_s * 2**(n-1)`` capped at ``cap_s``, full jitter
    over the upper half (so delays never collapse to zero).

    >>> b = Backoff(base_s=1.0, cap_s=8.0)
    >>> rng = random.Random(1)
    >>> [round(b.delay_s(n, rng), 2) for n in (1, 2, 3, 4, 5, 6)]
    [0.57, 1.85, 3.53, 5.02, 5.98, 5.8]
    """

    base_s: float = 1.0
    cap_s: float = 60.0

    def __post_init__(self) -> None:
        if not 0 < self.base_s <= self.cap_s:
            raise ValueError(f"need 0 < base_s <= cap_s (got {self.base_s}, {self.cap_s})")

    def delay_s(self, attempt: int, rng: random.Random) -> float:
        ceiling = min(self.cap_s, self.base_s * 2 ** max(0, attempt - 1))
        return float(ceiling * (0.5 + 0.5 * rng.random()))
