"""Text made safe to show: secrets masked, control characters and bidi overrides escaped.

``redact`` masks every secret (and its common encodings) in text from outside, such as a
receiver's error body; callers cut the text only after it (``clip``), so a cut can never leave
part of a secret behind. ``escape_text`` turns control characters (C0, DEL, C1), line and
paragraph separators and bidi controls into visible escapes (``\\x1b``, ``\\n``, ``\\u202e``)
for every text output a person reads: console lines, log lines, Slack and PagerDuty text.
JSON data fields (webhook bodies, ``actions.jsonl``) keep values verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

MASK = "***"
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_one(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape_text(text: object) -> str:
    """``str(text)`` with control characters and bidi overrides shown as escapes.

    >>> escape_text("a\\x1b[2J\\nb\\u202ec\\x00")
    'a\\\\x1b[2J\\\\nb\\\\u202ec\\\\x00'
    >>> escape_text("plain text, ümlauts and emoji 🙂")
    'plain text, ümlauts and emoji 🙂'
    """
    value = str(text)
    return _UNSAFE.sub(_escape_one, value) if _UNSAFE.search(value) else value


def _forms(secret: str) -> set[str]:
    """The secret as written, JSON-escaped and URL-encoded (how receivers echo it back)."""
    return {secret, secret.replace("/", "\\/"), quote(secret, safe=""), quote(secret)}


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value (and its encoded forms) replaced by ``***``.

    >>> redact("key=k3y/x k3y%2Fx k3y\\\\/x", ["k3y/x"])
    'key=*** *** ***'
    """
    forms = sorted({f for s in secrets if s for f in _forms(s)}, key=len, reverse=True)
    for form in forms:
        text = text.replace(form, MASK)
    return text


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters (``…`` marks a cut). Redact before clipping, never after.

    >>> clip("abcdef", 4), clip("abc", 4)
    ('abc…', 'abc')
    """
    return text if len(text) <= limit else text[: limit - 1] + "…"
