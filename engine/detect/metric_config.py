"""Tuning of the per-series metric model (``engine.detect.baseline.SeriesModel``).

The defaults are the one configuration every corpus of the benchmarks runs with; how each
value was chosen, and what was tried and dropped, is logged in ``benchmarks/nab/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.detect.context import ContextConfig
from engine.detect.recurrence import DAY_S


@dataclass(frozen=True, slots=True)
class SeriesConfig:
    """Tuning of ``SeriesModel``.

    Parameters
    ----------
    level_alpha : EWMA weight of the level predictor.
    error_alpha : EWMA weight of each predictor's mean absolute error.
    clip_z : residuals are clipped to ``clip_z`` error scales before they are learned.
    season_slots : slots per day of the seasonal profile (0 disables seasonality).
    season_alpha : EWMA weight of a seasonal slot.
    season_trust_s : the profile is trusted once the series has this many seconds of points
        (points times their typical interval), or ``2 * season_slots`` points, whichever
        comes first (hourly series: after 4 days, not 8).
    surprise_alpha : EWMA weight of the surprise distribution (the calibration's memory).
    min_samples : points before scores are reported (warm-up, ``None``).
    quiet_points : points after a report (score >= ``report_score``) that score 0.
    quiet_max_s : on a coarse series, at most this long at its typical interval (12 h: an
        hourly series is quiet for 12 points, a 5-min one for 30).
    report_score : the score that starts a quiet period (the rule's threshold).
    escalate_decades : a point inside a quiet period still reports when its evidence is this
        many decades rarer than the report that started the period (an escalation).
    error_weight : weight of the prediction surprise's decades.
    error_offset : decades of surprise that are not news (subtracted).
    count_unit : while every value of a series is a non-negative integer (a count), its error
        scale is at least this (a change of one count is ``z`` = 1, not news on sparse counts).
    run_points : earlier points a persistent surprise must span (besides the current one).
    run_offset : decades subtracted from a persistent surprise's joint rarity.
    range_tolerance : fraction of the all-time range a value must exceed it by to break it.
    range_decades : decades of rarity of a range break, at most.
    corroboration : fraction of each further view of the series' state (context novelty,
        level shift, range break) added to the strongest one (0: the strongest alone).
    beyond_decades : decades per octave above the 99th percentile of the level-shift
        statistic's own distribution.
    tail_quantile : the lower of the two tail quantiles (the other is the 99th percentile)
        the series' own surprise tail is fitted through (``engine.detect.tail``).
    tail_k_min, tail_k_max : bounds of the fitted Weibull tail's shape.
    shift_k : CUSUM allowance, in error scales, of the level-shift statistic.
    shift_offset : decades of the level-shift statistic's rarity that are not news.
    shift_weight : weight of the level-shift decades (0 disables the path).
    shift_warm_points : points before the level-shift path scores.
    recur_slots : slots per day of the recurrence memory (0 disables it).
    recur_reach_s : a surprise recurs when one as large was seen within this time of day.
    recur_decay : surprise bins (quarter octaves) a remembered surprise fades per day.
    recur_tolerance : bins a surprise may exceed the remembered one by and still recur.
    slow_alpha : EWMA weight of the slow view's mean and variance (unclipped).
    slow_weight : weight of the slow view's decades, ``slow_weight * log10(z ** 2)`` (1:
        Chebyshev's bound, ``engine.detect.baseline``; 0 disables it).
    week_weight : weight of the week-ago view's decades, ``week_weight * log10(z ** 2) -
        week_offset`` of the log ratio to the value a week earlier (0 disables it).
    week_offset : decades taken off the week-ago view's (3 and 2.5: it reports from z ~ 8).
    week_min_dt_s : the week-ago view runs only on positive series whose typical interval is
        at least this (its memory: 168 hourly slots of the last week).
    week_warm : ratios to a week earlier learnt before the week-ago view scores.
    context : the context-novelty configuration.
    """

    level_alpha: float = 0.1
    error_alpha: float = 0.02
    clip_z: float = 4.0
    season_slots: int = 96
    season_alpha: float = 0.3
    season_trust_s: float = 4 * DAY_S
    surprise_alpha: float = 0.001
    min_samples: int = 30
    quiet_points: int = 30
    quiet_max_s: float = 12 * 3600.0
    escalate_decades: float = 1.0
    report_score: float = 0.37
    error_weight: float = 1.0
    error_offset: float = 1.5
    count_unit: float = 1.0
    run_points: int = 2
    run_offset: float = 3.0
    range_tolerance: float = 0.05
    range_decades: float = 5.0
    corroboration: float = 0.5
    beyond_decades: float = 2.0
    tail_quantile: float = 0.03
    tail_k_min: float = 0.3
    tail_k_max: float = 1.0
    shift_k: float = 1.0
    shift_offset: float = 1.5
    shift_weight: float = 1.0
    shift_warm_points: int = 120
    recur_slots: int = 96
    recur_reach_s: float = 3600.0
    recur_decay: float = 1.0
    recur_tolerance: int = 3
    slow_alpha: float = 0.01
    slow_weight: float = 1.0
    week_weight: float = 3.0
    week_offset: float = 2.5
    week_min_dt_s: float = 900.0
    week_warm: int = 48
    context: ContextConfig = field(default_factory=ContextConfig)

    def __post_init__(self) -> None:
        for key in ("level_alpha", "error_alpha", "season_alpha", "surprise_alpha",
                    "slow_alpha"):
            value = getattr(self, key)
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{key} must be in (0, 1], got {value}")
        if self.season_trust_s < 0.0 or self.escalate_decades < 0.0 or self.count_unit < 0.0:
            raise ValueError("season_trust_s, escalate_decades and count_unit must be >= 0")
        if self.clip_z <= 0.0:
            raise ValueError(f"clip_z must be > 0, got {self.clip_z}")
        if not 0 <= self.season_slots <= 1440:
            raise ValueError(f"season_slots must be in [0, 1440], got {self.season_slots}")
        if self.min_samples < 2 or self.quiet_points < 0 or self.quiet_max_s <= 0.0:
            raise ValueError("min_samples must be >= 2, quiet_points >= 0, quiet_max_s > 0")
        if not 0.0 < self.report_score < 1.0 or self.error_weight < 0.0:
            raise ValueError("report_score must be in (0, 1) and error_weight >= 0")
        if not 1 <= self.run_points <= 16 or self.error_offset < 0.0:
            raise ValueError("run_points must be in [1, 16] and error_offset >= 0")
        if self.range_tolerance < 0.0 or self.range_decades < 0.0:
            raise ValueError("range_tolerance and range_decades must be >= 0")
        if not 0.0 <= self.corroboration <= 1.0:
            raise ValueError(f"corroboration must be in [0, 1], got {self.corroboration}")
        if not 0.01 < self.tail_quantile < 1.0:
            raise ValueError(f"tail_quantile must be in (0.01, 1), got {self.tail_quantile}")
        if not 0.0 < self.tail_k_min <= self.tail_k_max:
            raise ValueError("tail_k_min must be > 0 and at most tail_k_max")
        if not 0 <= self.recur_slots <= 1440 or self.recur_reach_s < 0.0:
            raise ValueError("recur_slots must be in [0, 1440] and recur_reach_s >= 0")
        if self.recur_decay < 0.0 or self.recur_tolerance < 0 or self.slow_weight < 0.0:
            raise ValueError("recur_decay, recur_tolerance and slow_weight must be >= 0")
        if self.week_weight < 0.0 or self.week_offset < 0.0 or self.week_min_dt_s <= 0.0:
            raise ValueError("week_weight, week_offset must be >= 0 and week_min_dt_s > 0")
        if self.week_warm < 1:
            raise ValueError(f"week_warm must be >= 1, got {self.week_warm}")

    @property
    def recur_reach(self) -> int:
        """The recurrence memory's reach in slots, either side."""
        return round(self.recur_reach_s * self.recur_slots / DAY_S)
