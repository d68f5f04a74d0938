"""Anomaly likelihood: turns raw surprise values into calibrated scores in [0, 1).

The raw value is compared with the recent distribution of raw values of the same series (an
exponentially weighted mean and variance, so memory is O(1)), in the manner of Numenta's HTM
"anomaly likelihood". The Gaussian tail probability ``q`` of the value becomes
``d / (d + 5)`` with ``d = -log10(q)``: 0.5 means a 1-in-100,000 event, 0.67 a 1-in-10^10 one,
0.8 a 1-in-10^20 one. The scale is the same for every series, which is what lets one threshold
serve all of them, and it never saturates, so rarer stays higher.
"""

from __future__ import annotations

import math
from typing import Final

HALF_DECADES: Final = 5.0
"""``-log10(q)`` at which the score is 0.5."""
_SQRT2: Final = math.sqrt(2.0)
_LN10: Final = math.log(10.0)
_LOG_SQRT_2PI: Final = 0.5 * math.log(2.0 * math.pi)


def tail_decades(z: float) -> float:
    """``-log10`` of the upper Gaussian tail probability of ``z`` standard deviations.

    >>> round(tail_decades(0.0), 3), round(tail_decades(4.265), 2), round(tail_decades(40.0), 1)
    (0.301, 5.0, 349.4)
    """
    if z < 25.0:
        return -math.log10(max(0.5 * math.erfc(z / _SQRT2), 1e-300))
    return (0.5 * z * z + math.log(z) + _LOG_SQRT_2PI) / _LN10


def tail_score(z: float) -> float:
    """Calibrated score of a surprise ``z`` standard deviations above normal, in [0, 1).

    >>> round(tail_score(0.0), 3), round(tail_score(4.265), 3), round(tail_score(7.0), 3)
    (0.057, 0.5, 0.704)
    """
    d = tail_decades(z)
    return d / (d + HALF_DECADES)
