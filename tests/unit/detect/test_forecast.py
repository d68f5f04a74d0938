"""Predictive alerting on generated fill, leak and stationary series."""

from __future__ import annotations

import random

from engine.detect.forecast import Breach, ForecastConfig, TrendModel
from engine.detect.metric import MetricDetector
from engine.events import AnomalyKind, MetricPoint
from engine.rules.detectors import DetectorRules

MINUTE = 60.0


def _first_warning(model: TrendModel, values: list[float]) -> tuple[int, Breach] | None:
    for i, value in enumerate(values):
        breach = model.step(MINUTE * i, value)
        if breach is not None:
            return i, breach
    return None


def test_warns_at_least_30_minutes_before_a_steady_disk_fill() -> None:
    rng = random.Random(7)
    # 40% -> 95% at 0.05 %/min: the breach is at minute 1100.
    values = [40.0 + 0.05 * i + rng.gauss(0.0, 0.3) for i in range(1200)]
    breach_at = next(i for i, v in enumerate(values) if v >= 95.0)
    warned = _first_warning(TrendModel(ForecastConfig(limit=95.0)), values)
    assert warned is not None
    at, breach = warned
    assert breach_at - at >= 30
    # the true time to breach lies inside the reported uncertainty range
    assert breach.eta_hi_s is not None
    assert breach.eta_lo_s <= (1100 - at) * MINUTE <= breach.eta_hi_s


def test_warns_before_a_leak_exhausts_memory_below_limit() -> None:
    rng = random.Random(3)
    values = [8000.0 - 2.0 * i + rng.gauss(0.0, 5.0) for i in range(3600)]  # free MB
    model = TrendModel(ForecastConfig(limit=1000.0, above=False, horizon_s=6 * 3600.0))
    warned = _first_warning(model, values)
    assert warned is not None
    assert 3500 - warned[0] >= 30  # the breach comes at minute 3500


def test_never_warns_on_a_day_of_stationary_noise() -> None:
    for seed in range(5):
        rng = random.Random(seed)
        values = [60.0 + rng.gauss(0.0, 5.0) for _ in range(1440)]
        assert _first_warning(TrendModel(ForecastConfig(limit=95.0)), values) is None


def test_one_warning_per_breach_episode_through_the_operator() -> None:
    rules = DetectorRules.model_validate(
        {"metrics": [], "forecasts": [{"match": {"__name__": "disk"}, "limit": 95.0}]})
    op = MetricDetector.from_rules(rules)
    rng = random.Random(1)
    points = [MetricPoint(MINUTE * i, "disk", 40.0 + 0.05 * i + rng.gauss(0.0, 0.3),
                          {"host": "db1"}) for i in range(1000)]
    _, out = op.process(op.initial_state(), points, now=points[-1].ts)
    forecasts = [a for a in out if a.kind is AnomalyKind.FORECAST]
    assert len(forecasts) == 1
    detail = forecasts[0].detail
    assert detail["limit"] == 95.0
    assert detail["eta_lo_s"] <= detail["eta_s"]
    assert forecasts[0].node == "db1"
