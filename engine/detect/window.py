"""Tumbling event-time windows of a model's feature values, bounded in memory.

Window number ``k`` holds the predictions with ``k * interval_s <= ts < (k + 1) * interval_s``.
A prediction older than the open window (late) joins the open window. Per numeric feature the
window keeps a uniform reservoir sample of at most ``cap`` values (``engine.detect.reservoir``);
per categorical feature it keeps exact category counts, at most ``MAX_CATEGORIES`` distinct
ones (later new categories are counted under ``OTHER``). Missing or mistyped values are counted
in ``missing``, not sampled.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from engine.detect.reservoir import reservoir_add, stream_seed
from engine.vocabulary import JsonDict

MAX_CATEGORIES: Final = 1000
OTHER: Final = "__other__"


@dataclass(slots=True)
class WindowState:
    """The open window: its number, how many predictions it saw, and its samples and counts."""

    index: int | None = None
    seen: int = 0
    samples: dict[str, np.ndarray] = field(default_factory=dict)
    sampled: dict[str, int] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> JsonDict:
        return {
            "index": self.index,
            "seen": self.seen,
            "samples": {k: v.tolist() for k, v in self.samples.items()},
            "sampled": dict(self.sampled),
            "counts": {k: dict(v) for k, v in self.counts.items()},
            "missing": dict(self.missing),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WindowState:
        return cls(
            index=data["index"],
            seen=int(data["seen"]),
            samples={k: np.asarray(v, dtype=np.float64) for k, v in data["samples"].items()},
            sampled={k: int(v) for k, v in data["sampled"].items()},
            counts={k: {str(c): int(n) for c, n in v.items()} for k, v in data["counts"].items()},
            missing={k: int(v) for k, v in data["missing"].items()},
        )

    def reset(self, index: int) -> None:
        """Start window ``index`` empty."""
        self.index, self.seen = index, 0
        self.samples, self.sampled, self.counts, self.missing = {}, {}, {}, {}


def segments(ts: np.ndarray, interval_s: float, current: int | None) -> list[tuple[int, int, int]]:
    """Split a batch (in arrival order) into ``(window, start, stop)`` runs.

    Late values join the open window, so window numbers never decrease.

    >>> segments(np.array([0.0, 5.0, 12.0, 3.0, 25.0]), 10.0, None)
    [(0, 0, 2), (1, 2, 4), (2, 4, 5)]
    """
    if len(ts) == 0:
        return []
    idx = np.floor(ts / interval_s).astype(np.int64)
    if current is not None:
        idx[0] = max(int(idx[0]), current)
    idx = np.maximum.accumulate(idx)
    cuts = [0, *(np.flatnonzero(np.diff(idx)) + 1).tolist(), len(idx)]
    return [(int(idx[a]), a, b) for a, b in itertools.pairwise(cuts)]


def numeric_column(values: Sequence[object]) -> np.ndarray:
    """Float array of a column; missing or non-numeric values become NaN."""
    try:
        return np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        return np.array(
            [v if type(v) in (int, float) else np.nan for v in values], dtype=np.float64
        )


def add_numeric(window: WindowState, name: str, values: np.ndarray, cap: int, seed: int) -> None:
    """Add a column's values to the feature's reservoir (NaN counted as missing)."""
    valid = values[~np.isnan(values)]
    if len(valid) < len(values):
        window.missing[name] = window.missing.get(name, 0) + len(values) - len(valid)
    if len(valid) == 0:
        return
    seen = window.sampled.get(name, 0)
    sample = window.samples.get(name, np.empty(0))
    window.samples[name] = reservoir_add(
        sample, seen, valid, cap, stream_seed(seed, name, window.index or 0)
    )
    window.sampled[name] = seen + len(valid)


def add_categorical(window: WindowState, name: str, values: Sequence[object]) -> None:
    """Count a column's categories (compared as strings; None counted as missing)."""
    counts = window.counts.setdefault(name, {})
    for value, n in Counter(values).items():
        if value is None:
            window.missing[name] = window.missing.get(name, 0) + n
            continue
        key = value if type(value) is str else str(value)
        if key not in counts and len(counts) >= MAX_CATEGORIES:
            key = OTHER
        counts[key] = counts.get(key, 0) + n
