"""The silence store port used by the silences endpoints, and its in-memory adapter.

The HTTP layer speaks plain JSON dicts to the store so any store (in memory, a file, the
Kafka-backed one) can sit behind it. A request body looks like::

    {"matchers": ["service=payments", "alertname=~High.*"], "starts_at": 1764115200,
     "ends_at": "2025-11-26T02:00:00Z", "created_by": "ana", "comment": "db migration"}

``duration`` ("2h", or seconds) may replace ``ends_at``; ``starts_at`` defaults to now.
``ends_at`` may be at most ``max_duration_s`` after now (``runtime.http.max_silence_duration``,
default 90 days), so no request makes a permanent silence.

A store's write methods may be coroutines (the Kafka-backed store answers once the broker
acknowledged the write); a store that cannot write raises ``ConnectorError`` (the API answers
503).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Protocol

from engine.act.silence import DEFAULT_MAX_SILENCE_S, Silence, silence_covering
from engine.events import JsonDict
from engine.rules.base import parse_duration
from engine.rules.matchers import parse_matcher

_MATCHER: Final = re.compile(r"^\s*[A-Za-z_][A-Za-z0-9_.]*\s*(=~|!~|!=|=)\s*.*$")


@dataclass(frozen=True, slots=True)
class SilenceRequest:
    """A validated request to create a silence (times in epoch seconds)."""

    matchers: tuple[str, ...]
    starts_at: float
    ends_at: float
    created_by: str = ""
    comment: str = ""

    def silence(self) -> Silence:
        """The silence this request asks for; ``ValueError`` with a reason if it is invalid."""
        return Silence.create(
            self.matchers,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            created_by=self.created_by,
            comment=self.comment,
        )


class SilenceStore(Protocol):
    """What the silences endpoints need from a store."""

    def list_silences(self, now: float) -> list[JsonDict]: ...

    def add_silence(self, request: SilenceRequest) -> JsonDict | Awaitable[JsonDict]:
        """Store a silence; ``ValueError`` with a reason if it is invalid."""
        ...

    def expire_silence(self, silence_id: str, now: float) -> bool | Awaitable[bool]:
        """End a silence at ``now``; ``False`` if there is no such silence."""
        ...


def parse_silence_request(
    body: Any, now: float, max_duration_s: float = DEFAULT_MAX_SILENCE_S
) -> SilenceRequest:
    """Validate a JSON body; ``ValueError`` naming the bad field otherwise.

    >>> request = parse_silence_request({"matchers": ["service=a"], "duration": "1h"}, now=100.0)
    >>> request.matchers, request.starts_at, request.ends_at
    (('service=a',), 100.0, 3700.0)
    >>> parse_silence_request({"matchers": ["service=a"], "ends_at": 1e308}, now=100.0)
    Traceback (most recent call last):
    ...
    ValueError: ends_at: at most 90d (max_silence_duration) from now (got 1e+308)
    """
    if not isinstance(body, dict):
        raise ValueError(f"body: expected a JSON object (got {type(body).__name__})")
    matchers = body.get("matchers")
    if not isinstance(matchers, list) or not matchers:
        raise ValueError("matchers: expected a non-empty list of strings like service=payments")
    for i, m in enumerate(matchers):
        if not isinstance(m, str) or not _MATCHER.match(m):
            raise ValueError(f"matchers[{i}]: expected name=value, !=, =~ or !~ (got {m!r})")
    starts_at = _time_of(body.get("starts_at", now), "starts_at")
    if "ends_at" in body:
        ends_at = _time_of(body["ends_at"], "ends_at")
    elif "duration" in body:
        ends_at = starts_at + parse_duration(body["duration"])
    else:
        raise ValueError("ends_at: required (or duration)")
    if ends_at <= starts_at:
        raise ValueError(f"ends_at: must be after starts_at (got {starts_at}..{ends_at})")
    if ends_at - now > max_duration_s:
        raise ValueError(
            f"ends_at: at most {_span(max_duration_s)} (max_silence_duration) from now "
            f"(got {ends_at:g})"
        )
    for i, m in enumerate(matchers):  # refused patterns (look-around, too long) name the field
        try:
            parse_matcher(m)
        except ValueError as exc:
            raise ValueError(f"matchers[{i}]: {exc}") from None
    created_by, comment = body.get("created_by", ""), body.get("comment", "")
    if not isinstance(created_by, str) or not isinstance(comment, str):
        raise ValueError("created_by, comment: expected strings")
    return SilenceRequest(tuple(matchers), starts_at, ends_at, created_by, comment)


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def _time_of(value: Any, key: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and value == value:
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    raise ValueError(f"{key}: expected epoch seconds or an RFC 3339 time (got {value!r})")


@dataclass(slots=True)
class InMemorySilenceStore:
    """Silences (``engine.act.silence.Silence``) kept in a dict, keyed by their stable id.

    The same request always gets the same id, so a retried POST is harmless. The deliverer
    reads ``silences.values()`` (or ``covering``) to mute actions at delivery time.
    """

    silences: dict[str, Silence] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def list_silences(self, now: float) -> list[JsonDict]:
        with self._lock:
            known = sorted(self.silences.items())
        return [silence_wire(s, now) for _, s in known]

    def add_silence(self, request: SilenceRequest) -> JsonDict:
        silence = request.silence()
        with self._lock:
            self.silences[silence.id] = silence
        return silence_wire(silence, request.starts_at)

    def expire_silence(self, silence_id: str, now: float) -> bool:
        with self._lock:
            known = self.silences.get(silence_id)
            if known is None:
                return False
            self.silences[silence_id] = known.expired_at(now)
        return True

    def covering(self, labels: Mapping[str, str], now: float) -> Silence | None:
        """The silence muting ``labels`` at ``now``, if any."""
        with self._lock:
            known = list(self.silences.values())
        return silence_covering(known, labels, now)


def silence_wire(silence: Silence, now: float) -> JsonDict:
    """A silence as the API shows it: its fields and ``status`` pending/active/expired."""
    status = (
        "pending" if now < silence.starts_at else "active" if silence.active(now) else "expired"
    )
    return {**silence.to_dict(), "status": status}
