"""Delayed labels joined to predictions by model and id, within a horizon, in bounded memory.

Each monitored prediction waits in ``pending`` (id -> ts, prediction, score) until its label
arrives, at most ``label_horizon`` seconds of event time (default 7 days) and at most
``max_pending`` predictions (oldest dropped first, counted in ``evicted``). A prediction whose
horizon passes without a label is dropped and counted in ``expired``: it never counts as right
or wrong. A label with no waiting prediction (unknown id, already labelled, expired or evicted)
is counted in ``unmatched`` and dropped. Joined rows stay in ``joined`` for the longest metric
window (and at most ``max_pending`` rows) for the windowed metrics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from engine.events import GroundTruth
from engine.vocabulary import JsonDict

Pending = tuple[float, float | int | str, float | None]
Joined = tuple[float, float | int | str, float | int | str, float | None]
"""(prediction ts, label, prediction, score)."""


@dataclass(slots=True)
class LabelJoinState:
    pending: dict[str, Pending] = field(default_factory=dict)
    joined: list[Joined] = field(default_factory=list)
    expired: int = 0
    evicted: int = 0
    unmatched: int = 0

    def to_dict(self) -> JsonDict:
        return {
            "pending": {k: list(v) for k, v in self.pending.items()},
            "joined": [list(r) for r in self.joined],
            "expired": self.expired,
            "evicted": self.evicted,
            "unmatched": self.unmatched,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LabelJoinState:
        return cls(
            pending={k: (v[0], v[1], v[2]) for k, v in data["pending"].items()},
            joined=[(r[0], r[1], r[2], r[3]) for r in data["joined"]],
            expired=int(data["expired"]),
            evicted=int(data["evicted"]),
            unmatched=int(data["unmatched"]),
        )


def remember(state: LabelJoinState, rows: Sequence[tuple[str, Pending]], max_pending: int) -> None:
    """Add predictions awaiting labels; beyond ``max_pending`` the oldest are evicted."""
    state.pending.update(rows)
    excess = len(state.pending) - max_pending
    if excess > 0:
        for key in list(islice(iter(state.pending), excess)):
            del state.pending[key]
        state.evicted += excess


def join(state: LabelJoinState, labels: Sequence[GroundTruth], max_rows: int) -> None:
    """Join labels to their waiting predictions (label order); keeps at most ``max_rows``.

    >>> s = LabelJoinState()
    >>> remember(s, [("p1", (10.0, 1, 0.9)), ("p2", (11.0, 0, 0.2))], max_pending=10)
    >>> join(s, [GroundTruth(ts=99.0, model="m", id="p1", label=0),
    ...          GroundTruth(ts=99.0, model="m", id="zz", label=1)], max_rows=10)
    >>> s.joined, list(s.pending), s.unmatched
    ([(10.0, 0, 1, 0.9)], ['p2'], 1)
    """
    for truth in labels:
        entry = state.pending.pop(truth.id, None)
        if entry is None:
            state.unmatched += 1
            continue
        state.joined.append((entry[0], truth.label, entry[1], entry[2]))
    if len(state.joined) > max_rows:
        del state.joined[: len(state.joined) - max_rows]


def expire(state: LabelJoinState, now: float, horizon_s: float, keep_s: float) -> None:
    """Drop predictions older than the horizon, and joined rows older than ``keep_s``."""
    cutoff = now - horizon_s
    stale: list[str] = []
    for key, entry in state.pending.items():
        if entry[0] >= cutoff:
            break
        stale.append(key)
    for key in stale:
        del state.pending[key]
    state.expired += len(stale)
    keep_from = now - keep_s
    first = next((i for i, r in enumerate(state.joined) if r[0] >= keep_from), len(state.joined))
    if first:
        del state.joined[:first]
