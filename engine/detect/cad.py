"""Contextual anomaly detection in the manner of CAD OSE (Smirnov & Yuriy, NAB 2016).

Written from the published description of the Contextual Anomaly Detector, open-source
edition, not from its code. Each value is put in one of ``2**bits`` equal bins of the series'
range and encoded as ``bits`` *facts* (bit ``k`` of the bin number gives fact ``2k`` or
``2k + 1``). A *context* pairs a left semi-context (a set of facts of the previous step: its
value facts plus the contexts that were active then) with a right semi-context (facts of the
current value). Per step:

1. the *zero-level* context (whole previous fact group, current value facts) is looked up and
   stored if new;
2. contexts whose left part is wholly in the previous group are *selected*; those whose right
   part is wholly in the current facts are *active* (their use count grows). When the
   zero-level context was new, selected or partly matching zero-level contexts also propose
   new contexts made of the matching facts only (left part at most ``max_left`` facts);
3. the anomaly is ``(1 - active/selected + new/proposed) / 2``: a value whose contexts
   predicted it scores near 0, a value nobody predicted and which made new contexts near 1;
4. the ``max_active`` most used active contexts become facts of the next left group.

Differences from the original, for a streaming engine: the range is learnt online (all-time
minimum and maximum, extended by ``allowance`` of the range whenever a value leaves it, so the
bins move rarely), the dictionary holds at most ``max_contexts`` contexts (then it stops
learning new ones; memory and time stay bounded), and the rest period (after a raw score of
``base_threshold`` or more, the next ``rest_points`` scores are 0) is applied by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

NEURON: Final = 1 << 20
"""Facts at or above this are active-context facts (``NEURON + context id``)."""


@dataclass(frozen=True, slots=True)
class CadConfig:
    """Tuning of ``CadModel`` (defaults: CAD OSE's published ones, plus the streaming bounds).

    Parameters
    ----------
    bits : value bits (``2**bits`` bins over the learnt range).
    max_left : largest left semi-context proposed as a new context, in facts.
    max_active : active contexts carried into the next left group.
    max_contexts : dictionary bound; no new contexts are learnt past it.
    allowance : fraction of the range added beyond a value that leaves the range.
    """

    bits: int = 3
    max_left: int = 7
    max_active: int = 15
    max_contexts: int = 4_096
    allowance: float = 0.1

    def __post_init__(self) -> None:
        if not 1 <= self.bits <= 8 or not 1 <= self.max_left <= 64:
            raise ValueError("bits must be in [1, 8] and max_left in [1, 64]")
        if not 1 <= self.max_active <= 64 or self.max_contexts < 16:
            raise ValueError("max_active must be in [1, 64] and max_contexts >= 16")
        if not 0.0 <= self.allowance <= 10.0:
            raise ValueError(f"allowance must be in [0, 10], got {self.allowance}")


class CadModel:
    """Mutable CAD state of one series; ``step`` returns the raw anomaly in [0, 1].

    Examples
    --------
    >>> model = CadModel(CadConfig())
    >>> scores = [model.step(float(i % 8)) for i in range(600)]
    >>> round(max(scores[300:]), 2), round(model.step(3.5), 2)
    (0.18, 0.95)
    """

    __slots__ = (
        "by_fact",
        "by_max",
        "cfg",
        "counts",
        "group",
        "hi",
        "left_ctx",
        "left_ids",
        "lefts",
        "lo",
        "n",
        "right_ids",
        "rights",
        "zero",
    )

    def __init__(self, cfg: CadConfig) -> None:
        self.cfg = cfg
        self.n = 0
        self.lo = self.hi = 0.0
        self.group: tuple[int, ...] = ()
        self.lefts: list[tuple[int, ...]] = []
        self.left_ids: dict[tuple[int, ...], int] = {}
        self.left_ctx: list[dict[int, int]] = []  # right id -> context id
        self.by_fact: dict[int, list[int]] = {}  # fact -> left ids holding it
        self.by_max: dict[int, list[int]] = {}  # largest fact -> left ids
        self.rights: list[tuple[int, ...]] = []
        self.right_ids: dict[tuple[int, ...], int] = {}
        self.counts: list[int] = []
        self.zero: list[bool] = []

    def step(self, x: float) -> float:
        """Score ``x`` against the contexts learnt so far, then learn it."""
        facts = self._encode(x)
        group = self.group
        if not group:
            self.group = facts
            return 0.0
        lid = self.left_ids.get(group)
        rid = self.right_ids.get(facts)
        known = None if lid is None or rid is None else self.left_ctx[lid].get(rid)
        crossed = self._cross(group, partial=known is None)
        active, selected, proposed = self._match(crossed, set(facts), known is None)
        if known is None:
            self._add(group, facts, zero=True)
        else:
            self.zero[known] = True
        added = sum(1 for left, right in proposed if self._add(left, right))
        proposed.add((group, facts))
        frac_active = len(active) / selected if selected else 0.0
        frac_new = (added + (known is None)) / len(proposed)
        active.sort(key=lambda c: (self.counts[c], c))
        neurons = [NEURON + c for c in active[-self.cfg.max_active:]]
        self.group = tuple(sorted((*facts, *neurons)))
        return (1.0 - frac_active + frac_new) / 2.0

    def _encode(self, x: float) -> tuple[int, ...]:
        cfg = self.cfg
        self.n += 1
        if self.n == 1:
            self.lo = self.hi = x
        levels = 1 << cfg.bits
        span = self.hi - self.lo
        b = 0 if span <= 0.0 else int((x - self.lo) / span * levels)
        b = min(levels - 1, max(0, b))
        if x > self.hi:
            self.hi = x + cfg.allowance * max(span, abs(x) * 1e-9)
        elif x < self.lo:
            self.lo = x - cfg.allowance * max(span, abs(x) * 1e-9)
        return tuple(2 * k + ((b >> k) & 1) for k in range(cfg.bits))

    def _cross(self, group: tuple[int, ...], partial: bool) -> dict[int, tuple[int, ...]]:
        """Left ids -> their facts in ``group``: all overlapping ones if ``partial``, else
        only those wholly inside ``group`` (all the update needs when nothing is proposed)."""
        lefts = self.lefts
        if not partial:
            inside = set(group)
            return {lid: lefts[lid] for f in group for lid in self.by_max.get(f, ())
                    if inside.issuperset(lefts[lid])}
        hits: dict[int, list[int]] = {}
        for f in group:
            for lid in self.by_fact.get(f, ()):
                got = hits.get(lid)
                if got is None:
                    hits[lid] = [f]
                else:
                    got.append(f)
        return {lid: tuple(fs) for lid, fs in hits.items()}

    def _match(self, crossed: dict[int, tuple[int, ...]], current: set[int], propose: bool,
               ) -> tuple[list[int], int, set[tuple[tuple[int, ...], tuple[int, ...]]]]:
        active: list[int] = []
        selected = 0
        proposed: set[tuple[tuple[int, ...], tuple[int, ...]]] = set()
        lefts, rights, counts, zero = self.lefts, self.rights, self.counts, self.zero
        max_left = self.cfg.max_left
        for lid, inter in crossed.items():
            whole = len(inter) == len(lefts[lid])
            for rid, cid in self.left_ctx[lid].items():
                if whole:
                    selected += 1
                right = rights[rid]
                common = tuple(f for f in right if f in current)
                if not common:
                    continue
                if whole and len(common) == len(right):
                    counts[cid] += 1
                    active.append(cid)
                elif propose and zero[cid] and len(inter) <= max_left:
                    proposed.add((inter, common))
        return active, selected, proposed

    def _add(self, left: tuple[int, ...], right: tuple[int, ...],
             zero: bool = False) -> bool:
        """Whether context (left, right) was new; stored if so and room remains."""
        lid = self.left_ids.get(left)
        rid = self.right_ids.get(right)
        if lid is not None and rid is not None and rid in self.left_ctx[lid]:
            return False
        if len(self.counts) >= self.cfg.max_contexts:
            return True
        if lid is None:
            lid = self._new_left(left)
        if rid is None:
            rid = self.right_ids[right] = len(self.rights)
            self.rights.append(right)
        self.left_ctx[lid][rid] = len(self.counts)
        self.counts.append(0)
        self.zero.append(zero)
        return True

    def _new_left(self, left: tuple[int, ...]) -> int:
        lid = self.left_ids[left] = len(self.lefts)
        self.lefts.append(left)
        self.left_ctx.append({})
        for f in left:
            self.by_fact.setdefault(f, []).append(lid)
        self.by_max.setdefault(max(left), []).append(lid)
        return lid

    def to_dict(self) -> dict[str, Any]:
        contexts = [[lid, rid, cid] for lid, ctx in enumerate(self.left_ctx)
                    for rid, cid in ctx.items()]
        return {"n": self.n, "lo": self.lo, "hi": self.hi, "group": list(self.group),
                "lefts": [list(f) for f in self.lefts], "rights": [list(f) for f in self.rights],
                "contexts": contexts, "counts": list(self.counts),
                "zero": [int(z) for z in self.zero]}

    @classmethod
    def from_dict(cls, cfg: CadConfig, data: dict[str, Any]) -> CadModel:
        model = cls(cfg)
        model.n, model.lo, model.hi = int(data["n"]), float(data["lo"]), float(data["hi"])
        model.group = tuple(int(f) for f in data["group"])
        for left in data["lefts"]:
            model._new_left(tuple(int(f) for f in left))
        for right in data["rights"]:
            model.right_ids[tuple(right)] = len(model.rights)
            model.rights.append(tuple(int(f) for f in right))
        for lid, rid, cid in data["contexts"]:
            model.left_ctx[lid][rid] = cid
        model.counts = [int(c) for c in data["counts"]]
        model.zero = [bool(z) for z in data["zero"]]
        return model
