"""Daily recurrence memory: a daily job's surprise is news once, not every day.

Per time-of-day slot (``len(memory)`` slots a day) the memory holds the largest recent surprise
bin plus ``decay * day number``, so a remembered surprise fades by ``decay`` bins a day without
any per-day work. A surprise is *recurring* when one at most ``tolerance`` bins smaller was
remembered within ``reach`` slots of its time of day (a backup's spike at 03:00, however its
start jitters). Today's surprises are remembered too, so one like a surprise of the past hour
is not news either. Only surprises of ``MIN_BIN`` or more are checked (smaller ones are never
news alone): the same scores as checking all, for less work per point.
"""

from __future__ import annotations

from typing import Final

DAY_S: Final = 86_400.0
MIN_BIN: Final = 22
"""Surprise bins below this (z < 2.8 error scales, never news alone) are neither remembered nor
discounted as recurring."""
NEVER: Final = -1e300
"""A slot that has remembered nothing yet."""


def remember(memory: list[float], ts: float, bz: int, reach: int, decay: float,
             tolerance: int) -> bool:
    """Remember a surprise in bin ``bz`` at ``ts``; whether one about as large was seen near
    this time of day recently (before this one).

    >>> memory = [NEVER] * 24
    >>> remember(memory, 3 * 3600.0, 30, 1, 1.0, 3)  # a surprise at 03:00 on day 0
    False
    >>> remember(memory, 86_400.0 + 4 * 3600.0, 31, 1, 1.0, 3)  # 04:00 next day, a bit larger
    True
    >>> remember(memory, 2 * 86_400.0 + 12 * 3600.0, 30, 1, 1.0, 3)
    False
    """
    slots = len(memory)
    now = int((ts % DAY_S) * slots / DAY_S)
    fade = decay * ts / DAY_S
    first, last = now - reach, now + reach + 1
    seen = max(memory[first if first > 0 else 0:last])  # slices: faster than a loop
    if first < 0:  # the window wraps around midnight
        seen = max(seen, *memory[first:])
    if last > slots:
        seen = max(seen, *memory[:last - slots])
    key = bz + fade
    if key > memory[now]:
        memory[now] = key
    return bz <= seen - fade + tolerance
