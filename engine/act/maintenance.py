"""Maintenance windows: absolute (``starts_at``..``ends_at``) or weekly, in UTC."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from engine.events import EventTime
from engine.rules.matchers import match_all
from engine.rules.routing import MaintenanceWindow, WeeklyWindow

_DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_EPOCH_WEEKDAY: Final = 3  # 1970-01-01 was a Thursday


def active_window(
    windows: Sequence[MaintenanceWindow], labels: Mapping[str, str], ts: EventTime
) -> str | None:
    """Name of the first window covering ``ts`` whose matchers hold for ``labels``.

    >>> from engine.rules.routing import MaintenanceWindow
    >>> w = MaintenanceWindow.model_validate({"name": "db", "match": {"service": "db"},
    ...     "weekly": [{"days": ["tue"], "start": "23:00", "end": "01:00"}]})
    >>> active_window([w], {"service": "db"}, 1_764_115_200.0)  # Wed 00:00 UTC: in Tuesday's window
    'db'
    >>> active_window([w], {"service": "db"}, 1_764_115_200.0 + 7200) is None
    True
    """
    for window in windows:
        if _covers(window, ts) and match_all(window.conditions(), labels):
            return window.name
    return None


def _covers(window: MaintenanceWindow, ts: EventTime) -> bool:
    bounds = window.bounds_s()
    if bounds is not None and bounds[0] <= ts < bounds[1]:
        return True
    return any(_weekly_covers(w, ts) for w in window.weekly)


def _weekly_covers(window: WeeklyWindow, ts: EventTime) -> bool:
    day_index = int(ts // 86400)
    minute = (ts % 86400) / 60.0
    start, end = _minutes(window.start), _minutes(window.end)
    today = _DAYS[(day_index + _EPOCH_WEEKDAY) % 7]
    yesterday = _DAYS[(day_index - 1 + _EPOCH_WEEKDAY) % 7]
    if start < end:
        return today in window.days and start <= minute < end
    # the window passes midnight: the evening part today, the morning part from yesterday
    return (today in window.days and minute >= start) or (yesterday in window.days and minute < end)


def _minutes(clock: str) -> float:
    hours, minutes = clock.split(":")
    return int(hours) * 60.0 + int(minutes)
