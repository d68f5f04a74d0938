"""Rule section ``detectors``: which detector scores which metric series, and forecast limits.

With no configuration every metric series is scored by Vigil's own detector (an online
multi-predictor baseline with calibrated surprise, context novelty, range breaks and a level-shift
CUSUM) at threshold 0.37: "rarer than about 1 in 900 recent points of the series". It was chosen
on NAB's standard profile (best report score of the quiet period; ``python -m benchmarks.nab``
then finds its best threshold at 0.344, with a score within 1 point of 0.37's), and a point at or
above it also starts the series' quiet period. A rule's ``match`` is an exact label match
(``__name__`` matches the metric name); the first matching rule wins. ``forecasts`` rules raise a
``forecast`` anomaly before a series crosses ``limit``.
"""

from __future__ import annotations

import enum
from typing import Literal

from pydantic import Field

from engine.rules.base import DurationS, StrictModel


class MetricDetectorKind(enum.StrEnum):
    """Which model scores a series (rule field ``detector``)."""

    VIGIL = "vigil"
    """Vigil's own online baseline (the default)."""
    HALFSPACETREES = "halfspacetrees"
    """river's HalfSpaceTrees behind a min-max scaler."""


class MetricDetectorRule(StrictModel):
    """A detector for the series whose labels (and ``__name__``) match ``match`` exactly."""

    match: dict[str, str] = Field(default_factory=dict)
    detector: MetricDetectorKind = MetricDetectorKind.VIGIL
    """``vigil`` (default) or river's ``halfspacetrees`` behind a min-max scaler."""
    threshold: float = Field(0.37, gt=0.0, lt=1.0)
    """Calibrated score at or above which a point becomes an anomaly (0.37 ~ a 1-in-900 point,
    0.5 ~ 1 in 10^5); a point at or above it also starts the series' quiet period."""
    min_samples: int = Field(30, ge=2)
    season_slots: int = Field(96, ge=0, le=1440)
    """Slots per day of the daily-seasonal predictor; 0 turns seasonality off."""
    quiet_points: int = Field(30, ge=0)
    """After a report, the next ``quiet_points`` points of the same series are not reported
    (a coarse series: at most 12 hours of points, so 12 on an hourly series)."""


class ForecastRule(StrictModel):
    """Warn before the matching series crosses ``limit`` (disk full, error budget, saturation)."""

    match: dict[str, str] = Field(default_factory=dict)
    limit: float
    direction: Literal["above", "below"] = "above"
    """``above``: breach when the value rises to the limit; ``below``: when it falls to it."""
    horizon_s: DurationS = 86_400.0
    """Warn when the estimated time to breach is at most this long."""
    window_s: DurationS = 21_600.0
    """Time constant of the trend fit (older points weigh e^-1 after this long)."""
    min_points: int = Field(20, ge=3)
    confidence_z: float = Field(4.0, gt=0.0)
    """The trend must differ from flat by this many standard errors before a warning."""


class DetectorRules(StrictModel):
    metrics: list[MetricDetectorRule] = Field(default_factory=lambda: [MetricDetectorRule()])
    forecasts: list[ForecastRule] = Field(default_factory=list)
    max_series: int = Field(1_000_000, ge=1)
    """Per-operator series cap; past it the least recently seen series is forgotten."""
