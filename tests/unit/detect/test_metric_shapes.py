"""Production shapes of metric series: hourly points, sparse counts, a larger anomaly inside a
report's quiet period."""

from __future__ import annotations

import random

import numpy as np

from engine.detect.baseline import SeriesModel
from engine.detect.metric import score_series
from engine.detect.metric_config import SeriesConfig

HOUR = 3600.0
T0 = 1_764_115_200.0  # a midnight (UTC)


def _business_hours(hour: int) -> float:
    return 100.0 if 8 <= hour % 24 < 20 else 10.0


def test_an_hourly_series_follows_its_daily_profile_after_four_days() -> None:
    model = SeriesModel(SeriesConfig())
    for i in range(5 * 24 + 8):  # to 08:00 of day 5: 128 points, fewer than 2 * 96 slots
        model.step(T0 + HOUR * i, _business_hours(i) + (i % 3) * 0.5)
    model.step(T0 + HOUR * (5 * 24 + 8), 100.0)
    assert abs(model.expected - 100.0) < 5.0  # yesterday's 08:00, not the night's last value


def test_sparse_hourly_counts_report_bursts_not_their_single_events() -> None:
    reports = bursts = 0
    for seed in range(20):  # four weeks of hourly counts at 0.1 an hour: mostly zeros
        values = [float(v) for v in np.random.default_rng(seed).poisson(0.1, 28 * 24)]
        ts = [T0 + HOUR * i for i in range(len(values))]
        reports += sum(1 for s in score_series(ts, values)[48:] if s is not None and s >= 0.37)
        values[500] += 6.0
        values[501] += 6.0
        bursts += max(s or 0.0 for s in score_series(ts, values)[500:503]) >= 0.37
    assert reports <= 5  # 35 before counts had a one-count error floor
    assert bursts >= 18


def test_a_much_larger_anomaly_inside_a_quiet_period_still_reports() -> None:
    rng = random.Random(3)
    values = [50.0 + rng.gauss(0.0, 1.0) for _ in range(400)]
    values[300] += 8.0  # reported: starts a quiet period of 30 points
    values[310] += 200.0  # 25 times larger, ten points later
    scores = score_series([T0 + 300.0 * i for i in range(400)], values)
    assert (scores[300] or 0.0) >= 0.37
    assert (scores[310] or 0.0) >= 0.37


def test_an_hourly_series_is_quiet_for_half_a_day_not_thirty_hours() -> None:
    rng = random.Random(5)
    values = [50.0 + rng.gauss(0.0, 1.0) for _ in range(400)]
    values[300] += 10.0  # reported: quiet for 12 points (12 hours), not 30
    values[318] += 10.0  # a second incident as large, 18 hours later
    scores = score_series([T0 + HOUR * i for i in range(400)], values)
    assert (scores[300] or 0.0) >= 0.37
    assert (scores[318] or 0.0) >= 0.37
    five_min = score_series([T0 + 300.0 * i for i in range(400)], values)
    assert (five_min[300] or 0.0) >= 0.37
    assert five_min[318] == 0.0  # a 5-min series keeps its 30 points (2.5 hours)
