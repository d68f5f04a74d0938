"""A bounded memo of metric series keys, shared by every per-point stage that keys by series.

``MetricPoint.key`` sorts and formats the labels; per point on the hot path that is most of the
cost of finding a series. ``SeriesKeys`` remembers it per ``(name, *label names, *label
values)``: names then values, not ``items()``, so no pair is built per label, and a tuple of
``1 + 2n`` strings still tells one label set (in one order) from another. It is a cache, never
state: it is not serialized, and it is cleared when it reaches ``MAX_KEYS`` entries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from engine.events import MetricPoint

MAX_KEYS: Final = 200_000
"""Entries before the memo is cleared (a bound on the cache, not on series)."""


@dataclass(slots=True)
class SeriesKeys:
    """``key_of(point) == point.key``, remembered.

    >>> keys = SeriesKeys()
    >>> p = MetricPoint(0.0, "cpu", 1.0, {"host": "a", "az": "1"})
    >>> keys.key_of(p) == p.key, len(keys.memo)
    (True, 1)
    """

    memo: dict[tuple[str, ...], str] = field(default_factory=dict)

    def key_of(self, point: MetricPoint) -> str:
        labels = point.labels
        memo = (point.name, *labels, *labels.values())
        key = self.memo.get(memo)
        if key is None:
            if len(self.memo) >= MAX_KEYS:
                self.memo.clear()
            key = self.memo[memo] = point.key
        return key
