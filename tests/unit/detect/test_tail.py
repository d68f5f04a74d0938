"""Tail extrapolation of a surprise histogram: fixed and Weibull fits."""

from __future__ import annotations

import itertools
import random

from engine.detect.tail import (
    BINS,
    bin_of,
    quantile_position,
    weibull_decades,
)


def _histogram(zs: list[float]) -> tuple[list[float], float]:
    hist = [0.0] * BINS
    for z in zs:
        hist[bin_of(z)] += 1.0
    return hist, float(len(zs))


def _q99(hist: list[float], total: float) -> tuple[int, float]:
    q, acc = BINS - 1, 0.0
    while q > 0 and acc + hist[q] < 0.01 * total:
        acc += hist[q]
        q -= 1
    return q, acc


def test_the_quantile_position_splits_the_mass_as_asked() -> None:
    rng = random.Random(1)
    hist, total = _histogram([abs(rng.gauss(0.0, 1.0)) for _ in range(20_000)])
    for p in (0.5, 0.1, 0.03, 0.01):
        position = quantile_position(hist, total, p)
        whole = int(position)
        above = sum(hist[whole + 1:]) + hist[whole] * (whole + 1 - position)
        assert abs(above - p * total) < 1e-6 * total


def test_weibull_decades_grow_within_a_bin_too_and_faster_on_a_light_tail() -> None:
    rng = random.Random(2)
    light, n = _histogram([abs(rng.gauss(0.0, 1.0)) for _ in range(20_000)])
    heavy, _ = _histogram([rng.paretovariate(1.5) - 1.0 for _ in range(20_000)])
    for hist in (light, heavy):
        q99 = _q99(hist, n)[0]
        beyond = [q99 + 1 + quarter / 4.0 for quarter in range(4 * (BINS - q99 - 1))]
        decades = [weibull_decades(p, hist, n, 0.03, 0.3, 1.0) for p in beyond]  # within bins too
        assert all(a < b for a, b in itertools.pairwise(decades))
    # two octaves above each one's 99th percentile: the light tail is far rarer
    light_q, heavy_q = _q99(light, n)[0], _q99(heavy, n)[0]
    assert weibull_decades(light_q + 8, light, n, 0.03, 0.3, 1.0) > 1.5 * weibull_decades(
        heavy_q + 8, heavy, n, 0.03, 0.3, 1.0)
