"""Generated-series check of the metric detector: ``python -m benchmarks.nab.synthetic``.

Data the detector was not tuned on, in three families, each with clean series and series with
one injected anomaly of a known kind at a random point after the first week:

- 5-min daily-seasonal series (14 days) with Gaussian or heavy-tailed noise: a single-point
  spike (+8 sigma), a level shift (+5 sigma, kept), a variance change (noise x4 for 200 points),
  a stall (flat line for 100 points inside the daily range); detected within ``DETECT_POINTS``,
  false reports after the first day.
- hourly Poisson counts (28 days, 0.05 to 20 an hour): a 3-hour burst, detected within 6 hours.
- hourly rates with daily and weekly cycles (28 days): an outage, a spike, a deploy's kept
  level drop, detected within 6 hours.

Vigil's metric detector, the EWMA z-score and river's HalfSpaceTrees (``benchmarks.nab.
detectors``, as in ``benchmarks.nab.corpora``) score every series; each at the threshold where
its family's clean series give ``--per-1000-days`` reports per 1,000 series-days
(``benchmarks.nab.matched``), Vigil also at its rule threshold. Prints, per kind and detector,
detections, the median delay in points and false reports per 1,000 series-days.
"""

from __future__ import annotations

import argparse
import math
import random
from collections.abc import Callable

from benchmarks.nab.detectors import DETECTORS, REFERENCES
from benchmarks.nab.matched import Case, compare
from engine.rules.detectors import DetectorRules

STEP_S = 300.0
POINTS = 14 * 288
DETECT_POINTS = 20
WARM_POINTS = 288
PER_1000_DAYS = 30.0
"""The clean false-report rate every detector's threshold is matched to: about the rule
threshold's stated per-point rarity (1 in 870 points) on an hourly series."""


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


def cases(series_per_kind: int, seed: int) -> list[Case]:
    ts = [1_764_115_200.0 + STEP_S * i for i in range(POINTS)]
    out = []
    for kind, inject in KINDS.items():
        for k in range(series_per_kind):
            rng = random.Random(f"{seed}/{kind}/{k}")
            values, sigma = _base(rng, heavy=k % 2 == 1)
            at = rng.randrange(7 * 288, POINTS - 400)
            if inject is not None:
                inject(values, at, sigma, rng)
            out.append(Case(kind, ts, values, at if inject is not None else None,
                            DETECT_POINTS, WARM_POINTS, POINTS))
    return out


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


def count_cases(series_per_rate: int, seed: int) -> list[Case]:
    """Sparse and dense hourly counts, clean and with a burst (+max(5, 6 sqrt(rate)) for 3
    hours; detected within 6 hours)."""
    ts = [1_764_115_200.0 + 3600.0 * i for i in range(COUNT_POINTS)]
    out = []
    for rate in COUNT_RATES:
        for k in range(series_per_rate):
            rng = random.Random(f"{seed}/counts/{rate}/{k}")
            clean = _counts(rng, rate)
            at = rng.randrange(7 * 24, COUNT_POINTS - 48)
            burst = list(clean)
            for i in range(at, at + 3):
                burst[i] += max(5.0, round(6.0 * math.sqrt(rate)))
            out.append(Case(f"burst {rate}/h", ts, burst, at, 6, 48, COUNT_POINTS))
            out.append(Case(f"clean {rate}/h", ts, clean, None, 6, 48, COUNT_POINTS))
    return out


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


def rate_cases(series_per_kind: int, seed: int) -> list[Case]:
    """Hourly rates with daily and weekly cycles: anomalies detected within 6 hours; false
    reports after the first two days (and before a kept level drop)."""
    ts = [1_764_115_200.0 + 3600.0 * i for i in range(COUNT_POINTS)]
    out = []
    for kind in RATE_KINDS:
        for k in range(series_per_kind):
            rng = random.Random(f"{seed}/rates/{kind}/{k}")
            values = _rates(rng)
            at = rng.randrange(7 * 24, COUNT_POINTS - 48)
            _inject_rate(values, kind, at)
            out.append(Case(kind, ts, values, None if kind == "none" else at, 6, 48,
                            at if kind == "level_shift" else COUNT_POINTS))
    return out


FAMILIES = {"5min": cases, "counts": count_cases, "rates": rate_cases}
TITLES = {"5min": "5-min daily-seasonal series, 14 days",
          "counts": "hourly Poisson counts, 28 days",
          "rates": "hourly rates with a weekly cycle, 28 days"}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.nab.synthetic")
    parser.add_argument("--series", type=int, default=20, help="series per anomaly kind")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-1000-days", type=float, default=PER_1000_DAYS,
                        help="clean false reports per 1,000 series-days the thresholds match")
    parser.add_argument("--family", choices=sorted(FAMILIES), action="append")
    parser.add_argument("--only", choices=sorted({*DETECTORS, *REFERENCES}), action="append",
                        help="detectors to run (default: those of the corpora)")
    args = parser.parse_args()
    threshold = DetectorRules().metrics[0].threshold
    print(f"series per kind {args.series}  seed {args.seed}  Vigil rule threshold {threshold}")
    for family in args.family or FAMILIES:
        compare(TITLES[family], FAMILIES[family](args.series, args.seed), threshold,
                args.per_1000_days, args.only or tuple(DETECTORS))


if __name__ == "__main__":
    main()
