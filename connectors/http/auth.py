"""Bearer-token check for the write endpoints (constant-time comparison)."""

from __future__ import annotations

import hmac


def bearer_matches(header: str | None, token: str | None) -> bool:
    """Whether an ``Authorization`` header carries ``Bearer <token>``.

    No configured token means no write access at all (never "open by default").

    >>> bearer_matches("Bearer s3cret", "s3cret"), bearer_matches("Bearer nope", "s3cret")
    (True, False)
    >>> bearer_matches("Bearer s3cret", None), bearer_matches(None, "s3cret")
    (False, False)
    """
    if not token or not header:
        return False
    scheme, _, given = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    expected = token.encode("utf-8")
    offered = given.strip().encode("utf-8", errors="replace")
    return hmac.compare_digest(offered, expected)
