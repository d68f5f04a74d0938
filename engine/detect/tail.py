"""Rarity of a surprise beyond the recent 99th percentile: the tail of a surprise histogram.

A surprise histogram has ``BINS`` log-binned bins, ``BINS_PER_OCTAVE`` to an octave of the
surprise ``z``. Beyond its 99th percentile it holds too few points to count rarity, so rarity
is extrapolated from the shape of the series' own tail:

- ``fixed_decades``: a power law with a fixed number of decades per octave above the bin of the
  99th percentile;
- ``weibull_decades``: a stretched exponential (Weibull) tail
  ``P(Z > z) = 0.01 ** ((z / z99) ** k)`` through a lower tail quantile and the 99th
  percentile, its shape ``k`` bounded. With ``k = 1`` (an exponential tail, the default cap)
  a Gaussian series' spike is rarer than a power law would say (a power law fitted to a
  Gaussian tail says an 8-sigma spike is common), and a heavy-tailed series (``k`` near 0.3)
  makes its big surprises much less news, so neither kind of series needs its own threshold.
"""

from __future__ import annotations

import math
from typing import Final

HALF_DECADES: Final = 5.0
"""Decades of rarity (``-log10`` of a probability) at which a score ``d / (d + HALF_DECADES)``
is 0.5: 0.5 means a 1-in-10^5 event, 0.67 1-in-10^10, 0.8 1-in-10^20, on every series."""
BINS: Final = 64
BINS_PER_OCTAVE: Final = 4
LOWEST_BIN: Final = -16
_LN2_PER_BIN: Final = math.log(2.0) / BINS_PER_OCTAVE
_LN_LN100: Final = math.log(math.log(100.0))


def bin_of(z: float) -> int:
    """The histogram bin of a surprise ``z`` (bin 0 holds ``z <= 2 ** (LOWEST_BIN / 4)``).

    >>> bin_of(0.0), bin_of(1.0), bin_of(2.0), bin_of(1e300)
    (0, 16, 20, 63)
    """
    if z <= 0.0:
        return 0
    b = math.floor(math.log2(z) * BINS_PER_OCTAVE) - LOWEST_BIN
    return 0 if b < 0 else (BINS - 1 if b >= BINS else b)


def quantile_position(hist: list[float], total: float, p: float) -> float:
    """Fractional bin position above which a fraction ``p`` of ``hist``'s mass (``total``)
    lies, each bin's mass spread evenly over it.

    >>> quantile_position([1.0, 1.0, 2.0], 4.0, 0.25)
    2.5
    """
    need, acc, q = p * total, 0.0, len(hist) - 1
    while q > 0 and acc + hist[q] < need:
        acc += hist[q]
        q -= 1
    mass = hist[q]
    return q + 1.0 - ((need - acc) / mass if mass > 0.0 else 0.0)


def fixed_decades(b: int, q99: int, per_octave: float) -> float:
    """Decades of rarity of bin ``b`` above ``q99``, the bin of the 99th percentile, on a
    power law of ``per_octave`` decades per octave.

    >>> fixed_decades(28, 24, 2.0)
    4.0
    """
    return 2.0 + (b - q99) / BINS_PER_OCTAVE * per_octave


def weibull_decades(position: float, hist: list[float], total: float, quantile: float,
                    k_min: float, k_max: float) -> float:
    """Decades of rarity of a surprise at the fractional bin ``position`` (bin ``b`` spans
    ``b`` to ``b + 1``) on a Weibull tail through the series' ``quantile`` and 99th
    percentile, shape within [``k_min``, ``k_max``].

    >>> gauss = [0.0] * 16 + [68.3, 13.6, 8.3, 4.9, 2.5, 1.3, 0.6, 0.3, 0.2]
    >>> round(weibull_decades(30.5, gauss, 100.0, 0.03, 0.3, 1.0), 2)
    8.48
    >>> heavy = [0.0] * 16 + [60.0, 12.0, 9.0, 6.0, 4.0, 3.0, 2.5, 1.5, 1.0, 0.5, 0.5]
    >>> round(weibull_decades(30.5, heavy, 100.0, 0.03, 0.3, 1.0), 2)
    4.92
    """
    top = quantile_position(hist, total, 0.01)
    gap = (top - quantile_position(hist, total, quantile)) * _LN2_PER_BIN
    k = (_LN_LN100 - math.log(-math.log(quantile))) / gap if gap > 0.0 else k_max
    k = k if k < k_max else k_max
    k = k if k > k_min else k_min
    return 2.0 * math.exp(k * (position - top) * _LN2_PER_BIN)
