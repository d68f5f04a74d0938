"""Silences: matcher-based, time-bounded mutes created by people (CLI or HTTP API).

The engine only decides whether a silence applies; creating, listing, expiring and persisting
them is the connectors' job (``connectors/silences.py``). An action whose labels a silence
covers at delivery time is not sent and is reported with status ``suppressed``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from math import isfinite
from typing import Any, Final

from engine.events import EventTime, JsonDict, stable_id
from engine.rules.matchers import Matcher, match_all, parse_matcher

DEFAULT_MAX_SILENCE_S: Final = 90 * 86400.0
"""How far ahead a new silence may end unless configured (``runtime.http.max_silence_duration``;
``vigil silence add --for`` uses this one)."""


@dataclass(frozen=True, slots=True)
class Silence:
    """Mute every action whose labels satisfy all ``matchers`` from ``starts_at`` to ``ends_at``.

    >>> s = Silence.create(["service=payments"], starts_at=0.0, ends_at=3600.0,
    ...                    created_by="ana", comment="db migration")
    >>> s.covers({"service": "payments"}, 60.0), s.covers({"service": "payments"}, 3600.0)
    (True, False)
    """

    id: str
    matchers: tuple[Matcher, ...]
    starts_at: EventTime
    ends_at: EventTime
    created_by: str = ""
    comment: str = ""

    @classmethod
    def create(
        cls,
        matchers: Iterable[str],
        *,
        starts_at: EventTime,
        ends_at: EventTime,
        created_by: str = "",
        comment: str = "",
    ) -> Silence:
        """A new silence; ``ValueError`` if a matcher is malformed or the times are reversed."""
        parsed = tuple(parse_matcher(m) for m in matchers)
        if not parsed:
            raise ValueError("a silence needs at least one matcher")
        if not (isfinite(starts_at) and isfinite(ends_at)):
            raise ValueError(f"starts_at, ends_at must be finite (got {starts_at}..{ends_at})")
        if ends_at <= starts_at:
            raise ValueError(f"ends_at must be after starts_at (got {starts_at}..{ends_at})")
        sid = stable_id("sil", tuple(map(str, parsed)), starts_at, ends_at, created_by, comment)
        return cls(sid, parsed, starts_at, ends_at, created_by, comment)

    def active(self, now: EventTime) -> bool:
        return self.starts_at <= now < self.ends_at

    def covers(self, labels: Mapping[str, str], now: EventTime) -> bool:
        return self.active(now) and match_all(self.matchers, labels)

    def expired_at(self, now: EventTime) -> Silence:
        """This silence ending at ``now`` (or unchanged if it already ended)."""
        end = min(self.ends_at, max(now, self.starts_at))
        return Silence(self.id, self.matchers, self.starts_at, end, self.created_by, self.comment)

    def to_dict(self) -> JsonDict:
        return {
            "id": self.id,
            "matchers": [str(m) for m in self.matchers],
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "created_by": self.created_by,
            "comment": self.comment,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Silence:
        return cls(
            str(data["id"]),
            tuple(parse_matcher(m) for m in data["matchers"]),
            float(data["starts_at"]),
            float(data["ends_at"]),
            str(data.get("created_by", "")),
            str(data.get("comment", "")),
        )


def silence_covering(
    silences: Iterable[Silence], labels: Mapping[str, str], now: EventTime
) -> Silence | None:
    """The first silence (by id) that mutes ``labels`` at ``now``, or ``None``."""
    for silence in sorted(silences, key=lambda s: s.id):
        if silence.covers(labels, now):
            return silence
    return None
