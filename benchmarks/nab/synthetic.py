"""Generated-series check of the metric detector: ``python -m benchmarks.nab.synthetic``.

Data the detector was not tuned on: seeded daily-seasonal series (5-minute points, 14 days) with
Gaussian or heavy-tailed noise, each with one injected anomaly of a known kind at a random point
after the first week: a single-point spike (+8 sigma), a level shift (+5 sigma, kept), a variance
change (noise x4 for 200 points), a stall (flat line for 100 points inside the daily range) and
none (clean series). A detection is a point scoring at or above the default rule threshold within
``DETECT_POINTS`` after the injection; every other report after the first day is a false report.
Prints, per kind, the detection rate, the median delay in points and false reports per 10,000
points.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
from collections.abc import Callable

from engine.detect.metric import score_series
from engine.rules.detectors import DetectorRules

STEP_S = 300.0
POINTS = 14 * 288
DETECT_POINTS = 20
WARM_POINTS = 288


def _base(rng: random.Random, heavy: bool) -> tuple[list[float], float]:
    amp, sigma = rng.uniform(5.0, 30.0), rng.uniform(0.5, 3.0)
    phase = rng.uniform(0.0, 2.0 * math.pi)
    values = []
    for i in range(POINTS):
        noise = rng.gauss(0.0, sigma)
        if heavy and rng.random() < 0.02:
            noise *= 3.0
        values.append(100.0 + amp * math.sin(2.0 * math.pi * i / 288 + phase) + noise)
    return values, sigma


def _spike(v: list[float], at: int, sigma: float, rng: random.Random) -> None:
    v[at] += rng.choice((-1.0, 1.0)) * 8.0 * sigma


def _shift(v: list[float], at: int, sigma: float, rng: random.Random) -> None:
    for i in range(at, len(v)):
        v[i] += 5.0 * sigma


def _variance(v: list[float], at: int, sigma: float, rng: random.Random) -> None:
    for i in range(at, min(len(v), at + 200)):
        v[i] += rng.gauss(0.0, math.sqrt(15.0) * sigma)


def _stall(v: list[float], at: int, sigma: float, rng: random.Random) -> None:
    for i in range(at, min(len(v), at + 100)):
        v[i] = v[at]


Injector = Callable[[list[float], int, float, random.Random], None]
KINDS: dict[str, Injector | None] = {
    "spike": _spike, "level_shift": _shift, "variance": _variance, "stall": _stall, "none": None,
}


def run(series_per_kind: int, seed: int) -> None:
    threshold = DetectorRules().metrics[0].threshold
    ts = [1_764_115_200.0 + STEP_S * i for i in range(POINTS)]
    print(f"threshold {threshold}  series/kind {series_per_kind}  points/series {POINTS}")
    for kind, inject in KINDS.items():
        found, delays, false_reports, scored = 0, [], 0, 0
        for k in range(series_per_kind):
            rng = random.Random(f"{seed}/{kind}/{k}")
            values, sigma = _base(rng, heavy=k % 2 == 1)
            at = rng.randrange(7 * 288, POINTS - 400)
            if inject is not None:
                inject(values, at, sigma, rng)
            scores = score_series(ts, values)
            hits = [i for i, s in enumerate(scores) if s is not None and s >= threshold]
            inside = [i for i in hits if inject is not None and at <= i < at + DETECT_POINTS]
            if inside:
                found += 1
                delays.append(inside[0] - at)
            false_reports += sum(1 for i in hits if i >= WARM_POINTS and i not in inside)
            scored += POINTS - WARM_POINTS
        rate = f"{found}/{series_per_kind}" if inject is not None else "-"
        delay = f"{statistics.median(delays):.0f}" if delays else "-"
        print(f"{kind:>12}  detected {rate:>7}  median delay {delay:>3} points  "
              f"false reports {1e4 * false_reports / scored:5.2f} per 10k points")


COUNT_POINTS = 28 * 24
"""Hourly count series: four weeks of hourly points."""
COUNT_RATES = (0.05, 0.3, 2.0, 20.0)


def _counts(rng: random.Random, rate: float) -> list[float]:
    """Hourly Poisson counts with a daily cycle (x0.2 at night to x1.8 by day) and quieter
    weekends (x0.6)."""
    import numpy as np

    gen = np.random.default_rng(rng.randrange(2**32))
    lam = [rate * (1.0 + 0.8 * math.sin(2.0 * math.pi * (i % 24 - 9) / 24))
           * (0.6 if (i // 24) % 7 >= 5 else 1.0) for i in range(COUNT_POINTS)]
    return [float(v) for v in gen.poisson(lam)]


def run_counts(series_per_rate: int, seed: int) -> None:
    """Sparse and dense hourly counts: clean series' false reports per 1,000 series-days and
    bursts (+max(5, 6 sqrt(rate)) for 3 hours) detected."""
    threshold = DetectorRules().metrics[0].threshold
    ts = [1_764_115_200.0 + 3600.0 * i for i in range(COUNT_POINTS)]
    print(f"hourly counts: series/rate {series_per_rate}  points/series {COUNT_POINTS}")
    for rate in COUNT_RATES:
        found, false_reports, days = 0, 0, 0.0
        for k in range(series_per_rate):
            rng = random.Random(f"{seed}/counts/{rate}/{k}")
            clean = _counts(rng, rate)
            at = rng.randrange(7 * 24, COUNT_POINTS - 48)
            burst = list(clean)
            for i in range(at, at + 3):
                burst[i] += max(5.0, round(6.0 * math.sqrt(rate)))
            hits = [i for i, s in enumerate(score_series(ts, clean))
                    if s is not None and s >= threshold and i >= 48]
            false_reports += len(hits)
            days += (COUNT_POINTS - 48) / 24.0
            scores = score_series(ts, burst)
            found += any(s is not None and s >= threshold for s in scores[at:at + 6])
        print(f"  rate {rate:>5}/h  burst detected {found:>3}/{series_per_rate}  clean false "
              f"reports {1000 * false_reports / days:6.1f} per 1,000 series-days")


RATE_KINDS = ("none", "drop", "spike", "level_shift")


def _rates(rng: random.Random) -> list[float]:
    """Hourly rates (a purchase rate): a daily cycle (x0.4 at night to x1.6 by day), weekends
    at half the weekday rate, 8% multiplicative noise."""
    base = rng.uniform(50.0, 500.0)
    return [base * (1.0 + 0.6 * math.sin(2.0 * math.pi * (i % 24 - 9) / 24))
            * (0.5 if (i // 24) % 7 >= 5 else 1.0) * rng.lognormvariate(0.0, 0.08)
            for i in range(COUNT_POINTS)]


def _inject_rate(values: list[float], kind: str, at: int) -> None:
    """An outage (x0.3 for 3 hours), a spike (x2 for an hour) or a deploy's level drop (x0.7,
    kept)."""
    span = {"drop": 3, "spike": 1, "level_shift": COUNT_POINTS}.get(kind, 0)
    factor = {"drop": 0.3, "spike": 2.0, "level_shift": 0.7}.get(kind, 1.0)
    for i in range(at, min(COUNT_POINTS, at + span)):
        values[i] *= factor


def run_rates(series_per_kind: int, seed: int) -> None:
    """Hourly rates with daily and weekly cycles: per kind, anomalies detected within 6 hours
    and clean false reports per 1,000 series-days (after the first two days)."""
    threshold = DetectorRules().metrics[0].threshold
    ts = [1_764_115_200.0 + 3600.0 * i for i in range(COUNT_POINTS)]
    print(f"hourly rates with a weekly cycle: series/kind {series_per_kind}  "
          f"points/series {COUNT_POINTS}")
    for kind in RATE_KINDS:
        found, false_reports, days = 0, 0, 0.0
        for k in range(series_per_kind):
            rng = random.Random(f"{seed}/rates/{kind}/{k}")
            values = _rates(rng)
            at = rng.randrange(7 * 24, COUNT_POINTS - 48)
            _inject_rate(values, kind, at)
            scores = score_series(ts, values)
            hits = [i for i, s in enumerate(scores) if s is not None and s >= threshold]
            near = [i for i in hits if kind != "none" and at <= i < at + 6]
            found += bool(near)
            false_reports += sum(1 for i in hits if i >= 48 and i not in near
                                 and not (kind == "level_shift" and i >= at))
            days += ((at if kind == "level_shift" else COUNT_POINTS) - 48) / 24.0
        rate = f"{found}/{series_per_kind}" if kind != "none" else "-"
        print(f"  {kind:>12}  detected {rate:>7}  false reports "
              f"{1000 * false_reports / days:6.1f} per 1,000 series-days")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.nab.synthetic")
    parser.add_argument("--series", type=int, default=20, help="series per anomaly kind")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    run(args.series, args.seed)
    run_counts(args.series, args.seed)
    run_rates(args.series, args.seed)


if __name__ == "__main__":
    main()
