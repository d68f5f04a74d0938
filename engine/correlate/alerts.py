"""External alert lifecycle: de-duplication by fingerprint, firing/resolved, flap hold.

An alert is tracked by its fingerprint. The first ``firing`` counts (it becomes an incident
member); repeats of a firing alert only refresh it; ``resolved`` ends it. An alert that changes
state ``flap_transitions`` times within ``flap_window_s`` is *held*: its further toggles are
neither re-counted nor treated as activity, until it has been stable for a whole window.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from engine.events import Alert, AlertStatus, EventTime


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


def observe_alert(book: dict[str, dict[str, Any]], alert: Alert, policy: AlertPolicy) -> Verdict:
    """Update the fingerprint ``book`` in place with ``alert`` and say what it means.

    Examples
    --------
    >>> from engine.events import Severity
    >>> def al(ts, status):
    ...     return Alert(ts, "HighLatency", AlertStatus(status), Severity.WARNING, "fp1")
    >>> book, policy = {}, AlertPolicy(flap_window_s=600, flap_transitions=3)
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
        book[fp] = {"firing": True, "first_ts": alert.ts, "last_ts": alert.ts, "flips": []}
        return Verdict.NEW
    track["last_ts"] = max(track["last_ts"], alert.ts)
    if track["firing"] == firing:
        flapping = _is_flapping(track, alert.ts, policy)
        return Verdict.REFRESH if firing and not flapping else Verdict.HELD
    track["firing"] = firing
    flips = [t for t in track["flips"] if alert.ts - t <= policy.flap_window_s]
    flips.append(alert.ts)
    track["flips"] = flips
    if _is_flapping(track, alert.ts, policy):
        return Verdict.HELD
    return Verdict.NEW if firing else Verdict.RESOLVED


def forget_alerts(book: dict[str, dict[str, Any]], now: EventTime, policy: AlertPolicy) -> None:
    """Drop fingerprints not seen for ``ttl_s`` (bounds the state)."""
    for fp in [fp for fp, t in book.items() if now - t["last_ts"] > policy.ttl_s]:
        del book[fp]


def is_firing(book: dict[str, dict[str, Any]], fingerprint: str) -> bool:
    track = book.get(fingerprint)
    return bool(track and track["firing"])


def _is_flapping(track: dict[str, Any], ts: EventTime, policy: AlertPolicy) -> bool:
    recent = [t for t in track["flips"] if ts - t <= policy.flap_window_s]
    return len(recent) >= policy.flap_transitions
