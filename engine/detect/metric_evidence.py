"""The metric model's evidence arithmetic, in decades of rarity: pure functions.

``rarity`` reads how rare a statistic is against the series' own recent distribution of it
(an exponentially decaying log-binned histogram), extrapolating beyond the recent 99th
percentile (``engine.detect.tail``). ``combine`` weighs the four pieces of evidence of a point:
the point surprise alone (one residual drives it), and the three views of the series' state
(shape, level, range) as the strongest plus ``corroboration`` of the others; the larger of
the two counts or, when larger, the Fisher combination of all four (``-log10`` of the
chi-square tail of ``-2 ln`` of the product of the four rarities, 8 degrees of freedom: one
strong piece with weak others is never raised above itself). The slow view
(``engine.detect.baseline``) is a floor under that combination, not a fifth piece of it.

The four pieces of evidence of a point (``engine.detect.baseline.SeriesModel``):

1. the prediction surprise, less ``error_offset`` decades (the few-percent tail of any series
   is not news), or, when the last ``run_points`` + 1 points were all surprising, their joint
   rarity ``(run_points + 1) * min - run_offset`` (a persistent shift);
2. context novelty (``engine.detect.context``): how new the recent shape of the series is
   (stalls, new oscillations, pattern changes inside the normal range);
3. a range break: a value beyond the all-time range by more than ``range_tolerance`` of it
   scores ``log10(n)`` decades at point ``n`` (a record has chance ``1/n``), at most
   ``range_decades``;
4. a level shift: a two-sided CUSUM of the residuals from the slow reference (the trusted
   seasonal profile, else the EWMA level), in decades of its own recent distribution, less
   ``shift_offset``; it restarts after each report, so one shift is reported once, and
   while it does not grow (a shift the level has caught up with) it counts only alongside a
   point surprise, so below the report threshold a shift is not repeated point after point.
"""

from __future__ import annotations

import math
from typing import Final

from engine.detect.tail import BINS, fixed_decades, weibull_decades

_LN10: Final = math.log(10.0)
_HALF: Final = BINS // 2


def rarity(b: int, hist: list[float], total: float, w: float) -> float:
    """``-log10`` of the recent fraction of values in bin ``b`` or above in ``hist`` (running
    sum ``total``; ``w`` is the weight the next value would get).

    >>> round(rarity(1, [98.0, 2.0], 100.0, 1.0), 2)
    1.61
    """
    tail = sum(hist[b:])
    return -math.log10((tail + 0.5 * w) / (total + w))


def q99_bin(hist: list[float], total: float) -> int:
    """The bin holding the recent 99th percentile."""
    q, acc = BINS - 1, 0.0
    while q > 0 and acc + hist[q] < 0.01 * total:
        acc += hist[q]
        q -= 1
    return q


def surprise_decades(b: int, within: float, hist: list[float], total: float, w: float,
                     quantile: float, k_min: float, k_max: float) -> float:
    """Rarity of a prediction surprise in bin ``b`` (``within`` it, 0 to 1); beyond the recent
    99th percentile, on the Weibull tail fitted to the series' own surprises."""
    # the shorter sum (most surprises are in the low bins): per point, so it matters
    tail = total - sum(hist[:b]) if b < _HALF else sum(hist[b:])
    decades = -math.log10((tail + 0.5 * w) / (total + w))
    if tail >= 0.01 * total or b <= q99_bin(hist, total):
        return decades
    fitted = weibull_decades(b + within, hist, total, quantile, k_min, k_max)
    return fitted if fitted > decades else decades


def shift_decades(b: int, hist: list[float], total: float, w: float,
                  per_octave: float) -> float:
    """Rarity of a level-shift statistic in bin ``b``; beyond its 99th percentile,
    ``per_octave`` decades per octave."""
    tail = sum(hist[b:])
    decades = -math.log10((tail + 0.5 * w) / (total + w))
    if tail >= 0.01 * total:
        return decades
    q99 = q99_bin(hist, total)
    if b <= q99:
        return decades
    fixed = fixed_decades(b, q99, per_octave)
    return fixed if fixed > decades else decades


def combine(point: float, novelty: float, shift: float, record: float,
            corroboration: float) -> float:
    """Decades of a point from its four pieces of evidence (each in decades).

    >>> combine(3.0, 0.0, 0.0, 0.0, 0.5), combine(0.0, 2.0, 2.0, 0.0, 0.5)
    (3.0, 3.0)
    >>> round(combine(3.0, 3.0, 0.0, 0.0, 0.0), 2)  # agreeing pieces: more than either
    3.26
    """
    views = novelty + shift + record  # the series' state: shape, level, range
    state = novelty if novelty > shift else shift
    state = record if record > state else state
    state += corroboration * (views - state)
    decades = point if point > state else state
    total = point + views
    if total > decades:
        y = total * _LN10  # Fisher: chi-square tail of -2 ln(product) with 8 d.o.f.
        fisher = total - math.log10(1.0 + y * (1.0 + y * (0.5 + y / 6.0)))
        decades = fisher if fisher > decades else decades
    return decades
