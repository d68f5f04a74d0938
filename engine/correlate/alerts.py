"""External alert lifecycle: de-duplication by fingerprint, firing/resolved, flap hold.

An alert is tracked by its fingerprint. The first ``firing`` counts (it becomes an incident
member); repeats of a firing alert only refresh it; ``resolved`` ends it. An alert that changes
state ``flap_transitions`` times within ``flap_window_s`` is *held*: its further toggles are
neither re-counted nor treated as activity, until it has been stable for a whole window.

Alert memory is bounded and indexed. A fingerprint is forgotten ``ttl_s`` after it was last
seen, and at most ``max_alerts`` are kept: past that the least recently seen is *evicted*
(counted in ``AlertBook.evicted``, exported as ``vigil_alerts_evicted_total``); if it comes
back it counts as new. ``RecentKeys`` keeps a min-heap of ``(last seen, key)`` beside the map,
so expiring and evicting cost O(log n) per alert whatever the number of distinct alerts (a
label with many values used to make every step scan them all). The incident stage's
re-send memory (``engine.correlate.reorder``) uses the same structure.
"""

from __future__ import annotations

import enum
import heapq
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from engine.events import Alert, AlertStatus, EventTime
from engine.vocabulary import JsonDict

MAX_ALERTS: Final = 100_000
"""Default cap on remembered alert fingerprints (and on the incident stage's re-send keys)."""


class Verdict(enum.Enum):
    """What one alert event means for correlation."""

    NEW = "new"
    """First firing (or firing again after it resolved): a member to place in an incident."""
    REFRESH = "refresh"
    """Still firing: activity for the incident it is in, no new member."""
    RESOLVED = "resolved"
    """It stopped firing."""
    HELD = "held"
    """Flapping or a duplicate resolve: ignored for counting and activity."""


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    flap_window_s: float = 1800.0
    flap_transitions: int = 4
    ttl_s: float = 86400.0
    max_alerts: int = MAX_ALERTS

    def __post_init__(self) -> None:
        if self.max_alerts < 1:
            raise ValueError(f"max_alerts must be >= 1, got {self.max_alerts}")


@dataclass(slots=True, eq=False)
class RecentKeys(Mapping[str, float]):
    """``{key: time last seen}`` with a min-heap index for the oldest key.

    Heap entries are ``(time, key)``; an entry whose time is no longer its key's (refreshed or
    removed since) is stale and dropped when it reaches the top. The heap is rebuilt when
    stale entries outnumber live ones, so it stays O(n) in size and each call O(log n)
    amortized. Which key is oldest (time, then key) does not depend on the heap's history,
    so a restored copy (heap rebuilt from ``times``) behaves identically.
    """

    times: dict[str, float] = field(default_factory=dict)
    _heap: list[tuple[float, str]] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        self._rebuild()

    def __getitem__(self, key: str) -> float:
        return self.times[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.times)

    def __len__(self) -> int:
        return len(self.times)

    def touch(self, key: str, t: float) -> None:
        """Set ``key``'s time to ``t``."""
        if self.times.get(key) == t:
            return
        self.times[key] = t
        heapq.heappush(self._heap, (t, key))
        if len(self._heap) > 2 * len(self.times) + 64:
            self._rebuild()

    def discard(self, key: str) -> None:
        self.times.pop(key, None)  # its heap entries are stale now

    def oldest(self) -> tuple[float, str] | None:
        """The ``(time, key)`` with the smallest time (then key), or None when empty."""
        heap = self._heap
        while heap:
            t, key = heap[0]
            if self.times.get(key) == t:
                return t, key
            heapq.heappop(heap)
        return None

    def expire(self, stale: Callable[[float], bool]) -> list[str]:
        """Remove and return the keys whose time is ``stale``, oldest first (``stale`` must
        hold for every time older than one it holds for, e.g. ``lambda t: t < horizon``)."""
        gone: list[str] = []
        while (top := self.oldest()) is not None and stale(top[0]):
            gone.append(top[1])
            del self.times[top[1]]
        return gone

    def evict_over(self, cap: int) -> list[str]:
        """Remove and return the oldest keys until at most ``cap`` are left."""
        gone: list[str] = []
        while len(self.times) > cap and (top := self.oldest()) is not None:
            gone.append(top[1])
            del self.times[top[1]]
        return gone

    def _rebuild(self) -> None:
        self._heap = [(t, key) for key, t in self.times.items()]
        heapq.heapify(self._heap)


@dataclass(slots=True)
class AlertTrack:
    """One fingerprint's story: firing now, first and last seen (event time), and the times it
    flipped between firing and resolved within the flap window."""

    firing: bool
    first_ts: EventTime
    last_ts: EventTime
    flips: list[EventTime] = field(default_factory=list)

    def to_dict(self) -> JsonDict:
        return {"firing": self.firing, "first_ts": self.first_ts, "last_ts": self.last_ts,
                "flips": list(self.flips)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AlertTrack:
        return cls(data["firing"], data["first_ts"], data["last_ts"], list(data["flips"]))


@dataclass(slots=True, eq=False)
class AlertBook(Mapping[str, AlertTrack]):
    """Alert tracks by fingerprint, the fingerprints' recency index and how many were evicted
    by the cap. Version 1 was the bare ``{fingerprint: track}`` map (read by
    ``_upgrade_v1_to_v2``)."""

    tracks: dict[str, AlertTrack] = field(default_factory=dict)
    evicted: int = 0
    version: int = 2
    _recent: RecentKeys = field(default_factory=RecentKeys, init=False, repr=False)

    def __post_init__(self) -> None:
        self._recent = RecentKeys({fp: t.last_ts for fp, t in self.tracks.items()})

    def __getitem__(self, fingerprint: str) -> AlertTrack:
        return self.tracks[fingerprint]

    def __iter__(self) -> Iterator[str]:
        return iter(self.tracks)

    def __len__(self) -> int:
        return len(self.tracks)

    def seen(self, fingerprint: str, last_ts: EventTime) -> None:
        self.tracks[fingerprint].last_ts = last_ts
        self._recent.touch(fingerprint, last_ts)

    def add(self, fingerprint: str, track: AlertTrack, cap: int) -> None:
        self.tracks[fingerprint] = track
        self._recent.touch(fingerprint, track.last_ts)
        for fp in self._recent.evict_over(cap):
            del self.tracks[fp]
            self.evicted += 1

    def forget(self, now: EventTime, ttl_s: float) -> None:
        """Drop the fingerprints with ``now - last_ts > ttl_s``."""
        for fp in self._recent.expire(lambda t: now - t > ttl_s):
            del self.tracks[fp]

    def to_dict(self) -> JsonDict:
        tracks = {fp: t.to_dict() for fp, t in self.tracks.items()}
        return {"version": self.version, "tracks": tracks, "evicted": self.evicted}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AlertBook:
        if not isinstance(data.get("version"), int):
            data = _upgrade_v1_to_v2(data)
        tracks = {fp: AlertTrack.from_dict(t) for fp, t in data["tracks"].items()}
        return cls(tracks=tracks, evicted=int(data["evicted"]))


def _upgrade_v1_to_v2(data: Mapping[str, Any]) -> dict[str, Any]:
    """Version 1 was the bare ``{fingerprint: track}`` map, uncapped: nothing evicted yet."""
    return {"version": 2, "tracks": dict(data), "evicted": 0}


def observe_alert(book: AlertBook, alert: Alert, policy: AlertPolicy) -> Verdict:
    """Update the fingerprint ``book`` in place with ``alert`` and say what it means.

    Examples
    --------
    >>> from engine.events import Severity
    >>> def al(ts, status):
    ...     return Alert(ts, "HighLatency", AlertStatus(status), Severity.WARNING, "fp1")
    >>> book, policy = AlertBook(), AlertPolicy(flap_window_s=600, flap_transitions=3)
    >>> [observe_alert(book, al(t, s), policy).value for t, s in
    ...  [(0, "firing"), (60, "firing"), (120, "resolved"), (180, "firing"), (240, "resolved"),
    ...   (300, "firing")]]
    ['new', 'refresh', 'resolved', 'new', 'held', 'held']
    """
    fp, firing = alert.fingerprint, alert.status is AlertStatus.FIRING
    track = book.get(fp)
    if track is None:
        if not firing:
            return Verdict.HELD
        track = AlertTrack(True, alert.ts, alert.ts)
        book.add(fp, track, policy.max_alerts)
        return Verdict.NEW
    book.seen(fp, max(track.last_ts, alert.ts))
    if track.firing == firing:
        flapping = _is_flapping(track, alert.ts, policy)
        return Verdict.REFRESH if firing and not flapping else Verdict.HELD
    track.firing = firing
    flips = [t for t in track.flips if alert.ts - t <= policy.flap_window_s]
    flips.append(alert.ts)
    track.flips = flips
    if _is_flapping(track, alert.ts, policy):
        return Verdict.HELD
    return Verdict.NEW if firing else Verdict.RESOLVED


def forget_alerts(book: AlertBook, now: EventTime, policy: AlertPolicy) -> None:
    """Drop fingerprints not seen for ``ttl_s`` (O(log n) per fingerprint dropped)."""
    book.forget(now, policy.ttl_s)


def is_firing(book: Mapping[str, AlertTrack], fingerprint: str) -> bool:
    track = book.get(fingerprint)
    return track is not None and track.firing


def _is_flapping(track: AlertTrack, ts: EventTime, policy: AlertPolicy) -> bool:
    recent = [t for t in track.flips if ts - t <= policy.flap_window_s]
    return len(recent) >= policy.flap_transitions
