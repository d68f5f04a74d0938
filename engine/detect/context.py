"""Context novelty: how new is the recent *shape* of a series, in calibrated decades.

Each value is put in one of ``levels`` equal bins of the series' range so far (all-time minimum
to maximum, before the value is learned; values outside it get their own two bins). The last
``length`` bins form contexts of length 1..``length`` ending at the current point; a context
never seen before is *novel*. The count of novel contexts at this point is compared with the
recent distribution of that count (an exponentially decaying histogram), giving
``-log10`` of the fraction of recent points with at least as many novel contexts. A repeating
pattern, however irregular in value, quickly stops being novel; a shape the series has not made
before (a stall, a new oscillation, a jump to an unused band) is.

Seen contexts live in a fixed ``table_bits`` bit table (hashing), so memory is bounded
(2 kB with the default 16,384 bits); a full table only makes novelty rarer, never raises it.
The last ``length`` bins are kept as one integer code, and the table slots of each code are
memoised per configuration (at most ``MEMO_SIZE`` codes, about 16 MB per process at worst;
cleared when full), which only saves the hashing: results are the same with or without it.
This is in the spirit of contextual anomaly detectors such as CAD OSE, written from the idea,
not from its code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

from engine.vocabulary import JsonDict

_MASK48: Final = (1 << 48) - 1
_GOLDEN: Final = 0x9E3779B97F4A7C15
MEMO_SIZE: Final = 1 << 15
"""Bound of each configuration's memo of context code -> table slots (cleared when full)."""
_MEMOS: dict[tuple[int, int, int], dict[int, tuple[tuple[int, int], ...]]] = {}


@dataclass(frozen=True, slots=True)
class ContextConfig:
    """Tuning of ``ContextModel`` (defaults: the one configuration used on all of NAB).

    Parameters
    ----------
    levels : equal-width bins over the series' range so far.
    length : longest context, in points.
    table_bits : size of the seen-context bit table (a power of two).
    alpha : EWMA weight of the novelty-count distribution.
    """

    levels: int = 8
    length: int = 5
    table_bits: int = 16_384
    alpha: float = 0.001

    def __post_init__(self) -> None:
        if not 2 <= self.levels <= 1024 or not 1 <= self.length <= 16:
            raise ValueError("levels must be in [2, 1024] and length in [1, 16]")
        if self.table_bits < 64 or self.table_bits & (self.table_bits - 1):
            raise ValueError(f"table_bits must be a power of two >= 64, got {self.table_bits}")
        if not 0.0 < self.alpha <= 1.0:
            raise ValueError(f"alpha must be in (0, 1], got {self.alpha}")


class ContextModel:
    """Mutable novelty state of one series; ``step`` returns the novelty in decades.

    Examples
    --------
    >>> model = ContextModel(ContextConfig(levels=4, length=3))
    >>> pattern = [model.step(float(i % 4), 0.0, 3.0) for i in range(400)]
    >>> round(max(pattern[200:]), 2), round(model.step(1.5, 0.0, 3.0), 2)
    (0.0, 2.02)
    """

    __slots__ = ("bits", "cfg", "code", "counts", "memo", "span", "total", "weight")

    def __init__(self, cfg: ContextConfig) -> None:
        self.cfg = cfg
        self.code = 0  # the last ``length`` bins, most recent lowest, as base-(levels+4) digits
        self.span = (cfg.levels + 4) ** cfg.length
        self.memo = _MEMOS.setdefault((cfg.levels, cfg.length, cfg.table_bits), {})
        self.bits = bytearray(cfg.table_bits // 8)
        self.counts = [0.0] * (cfg.length + 1)
        self.weight = 1.0
        self.total = 0.0  # running sum of ``counts``

    def step(self, x: float, lo: float, hi: float) -> float:
        """Learn ``x`` (range so far ``lo``..``hi``); ``-log10`` rarity of its novelty count."""
        levels = self.cfg.levels
        span = hi - lo
        position = (x - lo) / span * levels if span > 0.0 else 0.0
        if not position >= 0.0:  # below the range (also -inf or NaN from a subnormal span)
            b = -1
        elif position < levels + 1:
            b = int(position)  # floor, as position >= 0
        else:  # above the range, or a subnormal span's +inf
            b = levels + 1
        code = self.code = (self.code * (levels + 4) + b + 2) % self.span
        slots = self.memo.get(code)
        if slots is None:
            slots = self._slots_of(code)
        bits = self.bits
        novel = 0
        for j, bit in slots:
            if not bits[j] & bit:
                novel += 1
                bits[j] |= bit
        counts, w = self.counts, self.weight
        decades = 0.0
        if novel:
            tail = sum(counts[novel:])
            decades = -math.log10((tail + 0.5 * w) / (self.total + w))
        counts[novel] += w
        self.total += w
        self.weight = w = w / (1.0 - self.cfg.alpha)
        if w > 1e9:
            self.counts = [c / w for c in counts]
            self.total /= w
            self.weight = 1.0
        return decades

    def _slots_of(self, code: int) -> tuple[tuple[int, int], ...]:
        """The (byte, bit) table slots of the contexts ending now (memoised per config)."""
        base, mask = self.cfg.levels + 4, self.cfg.table_bits - 1
        slots, h, rest = [], 0, code
        while rest:
            rest, digit = divmod(rest, base)
            h = (h * 1_000_003 + digit) & _MASK48
            j = ((h * _GOLDEN) >> 20) & mask
            slots.append((j >> 3, 1 << (j & 7)))
        if len(self.memo) >= MEMO_SIZE:
            self.memo.clear()
        found = self.memo[code] = tuple(slots)
        return found

    @property
    def recent(self) -> list[int]:
        """The last ``length`` bins, oldest first."""
        base, code, out = self.cfg.levels + 4, self.code, []
        while code:
            code, digit = divmod(code, base)
            out.append(digit - 2)
        return out[::-1]

    def to_dict(self) -> JsonDict:
        return {"recent": self.recent, "bits": self.bits.hex(),
                "counts": list(self.counts), "weight": self.weight, "total": self.total}

    @classmethod
    def from_dict(cls, cfg: ContextConfig, data: dict[str, Any]) -> ContextModel:
        model = cls(cfg)
        for b in data["recent"][-cfg.length:]:
            model.code = model.code * (cfg.levels + 4) + int(b) + 2
        model.bits = bytearray.fromhex(data["bits"])
        model.counts = [float(c) for c in data["counts"]]
        model.weight = float(data["weight"])
        model.total = float(data["total"]) if "total" in data else sum(model.counts)
        return model
