"""The pipeline's metric operator: per-series anomaly scores and forecast warnings.

Each series (``MetricPoint.key``) is routed to the first ``detectors.metrics`` rule whose
``match`` its labels (and ``__name__``) satisfy, and scored strictly online by that rule's
detector: Vigil's ``SeriesModel`` (``engine.detect.baseline``) or river's HalfSpaceTrees
(``engine.detect.river_trees``). Points scoring at or above the rule's threshold become
``metric`` anomalies. Series matched by a ``detectors.forecasts`` rule also feed a
``TrendModel`` (``engine.detect.forecast``) that raises one ``forecast`` anomaly per breach
episode, before the breach. ``score_series`` runs the very same per-series code over one
series; the NAB benchmark uses it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from engine.detect.baseline import SeriesConfig, SeriesModel
from engine.detect.forecast import Breach, ForecastConfig, TrendModel
from engine.detect.metric_state import MetricState, SeriesSlot
from engine.detect.river_trees import HalfSpaceTreesModel
from engine.events import (
    Anomaly,
    AnomalyKind,
    EventTime,
    MetricPoint,
    Rejected,
    Severity,
    node_of,
    stable_id,
)
from engine.operator import OperatorExample, register_example
from engine.rules.detectors import DetectorRules, MetricDetectorKind, MetricDetectorRule

BAND_Z = 3.0
"""Half-width of the reported normal band, in error scales."""


def score_series(ts_s: Sequence[float], values: Sequence[float],
                 cfg: SeriesConfig | None = None) -> list[float | None]:
    """Score one series point by point with the metric operator's default per-series model.

    >>> scores = score_series([60.0 * i for i in range(40)], [1.0, 2.0] * 19 + [1.0, 30.0])
    >>> scores[:2], [round(s, 2) for s in scores[-3:]]
    ([None, None], [0.04, 0.0, 0.94])
    """
    model = SeriesModel(cfg or SeriesConfig())
    step = model.step
    return [step(t, v) for t, v in zip(ts_s, values, strict=True)]


def severity_of(score: float) -> Severity:
    """0.8+ critical, 0.67+ (1-in-10^10) error, 0.5+ (1-in-10^5) warning, else info."""
    if score >= 0.8:
        return Severity.CRITICAL
    if score >= 0.67:
        return Severity.ERROR
    return Severity.WARNING if score >= 0.5 else Severity.INFO


@dataclass(frozen=True, slots=True)
class MetricDetector:
    """Scores every metric series online; emits ``metric`` and ``forecast`` anomalies.

    Updates ``state`` in place for speed and returns it. Output ``score`` is calibrated in
    [0, 1): 0.5 means rarer than 1 in 10^5 recent points of that series; ``None`` scores
    (warm-up) never emit.

    Examples
    --------
    >>> from engine.testing import pt, T0
    >>> op = MetricDetector.from_rules(DetectorRules())
    >>> pts = [pt("api", 10.0 + i % 3, T0 + 60 * i) for i in range(60)]
    >>> pts.append(pt("api", 90.0, T0 + 3600))
    >>> _, out = op.process(op.initial_state(), pts, now=T0 + 3600)
    >>> [(a.kind.value, round(a.score, 2), a.detail["value"]) for a in out]
    [('metric', 0.96, 90.0)]
    """

    rules: DetectorRules = field(default_factory=DetectorRules)
    name: str = "metric"
    configs: ModelConfigs = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "configs", ModelConfigs.of(self.rules))  # built once

    @classmethod
    def from_rules(cls, rules: DetectorRules) -> MetricDetector:
        return cls(rules=rules)

    def initial_state(self) -> MetricState:
        return MetricState()

    def restore_state(self, data: dict[str, object]) -> MetricState:
        """Rebuild a state from ``MetricState.to_dict`` output (models need this config)."""
        return MetricState.from_dict(data, self.configs)

    def process(
        self, state: MetricState, batch: Sequence[MetricPoint], *, now: EventTime
    ) -> tuple[MetricState, list[Anomaly | Rejected]]:
        """Score each point before learning it, in batch order."""
        out: list[Anomaly | Rejected] = []
        series, isfinite = state.series, math.isfinite
        thresholds = [rule.threshold for rule in self.rules.metrics]
        for point in batch:
            value = point.value
            if not isfinite(value):
                out.append(Rejected("metrics", f"{point.key}: value is not finite",
                                    repr(value).encode()))
                continue
            key = state.key_of(point)
            slot = series.get(key)
            if slot is None:
                slot = self._new_slot(state, point, key)
            model = slot.model
            if model is not None:
                score = model.step(point.ts, value)
                if score is not None and score >= thresholds[slot.rule]:
                    out.append(_metric_anomaly(point, key, score, model))
            if slot.trend is not None:
                breach = slot.trend.step(point.ts, value)
                if breach is not None:
                    out.append(_forecast_anomaly(point, key, breach))
            slot.last_ts = point.ts
        return state, out

    def _new_slot(self, state: MetricState, point: MetricPoint, key: str) -> SeriesSlot:
        if len(state.series) >= self.rules.max_series:
            state.evict_oldest()
        labels = {**point.labels, "__name__": point.name}
        rule = _first_match([r.match for r in self.rules.metrics], labels)
        limit = _first_match([f.match for f in self.rules.forecasts], labels)
        configs = self.configs
        slot = SeriesSlot(rule=rule, forecast=limit, last_ts=point.ts)
        slot.model = None if rule < 0 else configs.model(rule)
        slot.trend = None if limit < 0 else TrendModel(configs.forecasts[limit])
        state.series[key] = slot
        return slot


@dataclass(frozen=True, slots=True)
class ModelConfigs:
    """Per-rule model configurations derived from the rules (what a state needs to load)."""

    rules: tuple[MetricDetectorRule, ...]
    series: tuple[SeriesConfig, ...]
    forecasts: tuple[ForecastConfig, ...]

    @classmethod
    def of(cls, rules: DetectorRules) -> ModelConfigs:
        series = tuple(SeriesConfig(min_samples=r.min_samples, season_slots=r.season_slots,
                                    quiet_points=r.quiet_points, report_score=r.threshold)
                       for r in rules.metrics)
        forecasts = tuple(
            ForecastConfig(limit=f.limit, above=f.direction == "above", horizon_s=f.horizon_s,
                           window_s=f.window_s, min_points=f.min_points,
                           confidence_z=f.confidence_z) for f in rules.forecasts)
        return cls(tuple(rules.metrics), series, forecasts)

    def model(self, rule: int) -> SeriesModel | HalfSpaceTreesModel:
        if self.rules[rule].detector is MetricDetectorKind.HALFSPACETREES:
            return HalfSpaceTreesModel(min_samples=self.rules[rule].min_samples)
        return SeriesModel(self.series[rule])


def _first_match(matches: Sequence[Mapping[str, str]], labels: Mapping[str, str]) -> int:
    for i, match in enumerate(matches):
        if all(labels.get(k) == v for k, v in match.items()):
            return i
    return -1


def _metric_anomaly(point: MetricPoint, key: str, score: float,
                    model: SeriesModel | HalfSpaceTreesModel) -> Anomaly:
    expected, scale = model.expected, model.scale
    return Anomaly(
        id=stable_id("an", "metric", key, point.ts), ts=point.ts, kind=AnomalyKind.METRIC,
        node=node_of(point.labels) or point.name,
        subject={"name": point.name, "labels": dict(point.labels)},
        score=score, severity=severity_of(score),
        detail={"value": point.value, "expected": expected,
                "band": [expected - BAND_Z * scale, expected + BAND_Z * scale]},
        labels=point.labels)


def _forecast_anomaly(point: MetricPoint, key: str, breach: Breach) -> Anomaly:
    soon = breach.eta_lo_s
    return Anomaly(
        id=stable_id("an", "forecast", key, point.ts), ts=point.ts, kind=AnomalyKind.FORECAST,
        node=node_of(point.labels) or point.name,
        subject={"name": point.name, "labels": dict(point.labels)},
        score=min(1.0, 3600.0 / (3600.0 + soon)),
        severity=Severity.CRITICAL if soon < 3600.0 else Severity.WARNING,
        detail={"limit": breach.limit, "eta_s": breach.eta_s, "eta_lo_s": breach.eta_lo_s,
                "eta_hi_s": breach.eta_hi_s, "value": point.value,
                "expected": breach.expected},
        labels=point.labels)


def _example_batch() -> list[MetricPoint]:
    from engine.testing import T0, pt

    pts = [pt("api", 10.0 + (i * 7) % 5, T0 + 60 * i) for i in range(80)]
    pts[70] = pt("api", 80.0, T0 + 60 * 70)
    disk = [pt("disk", 50.0 + 0.4 * i + (i % 3) * 0.1, T0 + 60 * i) for i in range(80)]
    return [p for pair in zip(pts, disk, strict=True) for p in pair]


register_example(OperatorExample(
    name="metric",
    make_operator=lambda: MetricDetector.from_rules(DetectorRules.model_validate(
        {"forecasts": [{"match": {"__name__": "disk"}, "limit": 100.0, "horizon_s": 7200}]})),
    make_batch=_example_batch,
    state_type=MetricState,
))
