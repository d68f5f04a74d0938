"""State of the metric operator: one slot per series, with a bounded series count.

``STATE_VERSION`` numbers the snapshot format. Older snapshots (version 1, whose per-series
model fields changed twice without a bump, and versions 2 to 9) load through ``upgrade``: a Vigil
model's missing fields start fresh (the running histogram sums added in version 5 are summed
from the histograms) and fields that no longer exist are dropped, so the series keeps its
baseline and re-learns only the new parts. Snapshots of an unknown version are
refused with a clear ``ValueError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from engine.detect.baseline import SeriesModel
from engine.detect.forecast import TrendModel
from engine.detect.river_trees import HalfSpaceTreesModel
from engine.detect.series_keys import SeriesKeys
from engine.rules.detectors import MetricDetectorKind
from engine.vocabulary import JsonDict

if TYPE_CHECKING:
    from engine.detect.metric import ModelConfigs
    from engine.events import MetricPoint

STATE_VERSION: Final = 10
"""10: adds the week-ago view's memory ``week``, ``week_var``, ``week_n``, ``week_slot``,
``week_sum``, ``week_count`` (an older snapshot's series starts it empty);
9: adds the slow view's mean and variance ``slow_mean``, ``slow_var`` and the previous
point's level-shift decades ``shift_last``;
8: adds ``prev_ts`` and the typical interval ``dt`` (seasonal trust after
``season_trust_s`` of points), ``quiet_decades`` (escalation inside a quiet period) and
``integral`` (count-aware error floor);
7: drops the decaying report count ``reports`` (the repeat penalty was never the default);
6: adds the recurrence memory ``recur``;
5: adds the running histogram sums ``hist_total``, ``shift_total`` and the context's ``total``;
4: adds the decaying report count ``reports``; 3: adds the level-shift CUSUM fields;
2: ``quiet``, ``run_surprise``, ``context`` (1 had
older ones). Older versions load through ``upgrade``."""


@dataclass(slots=True)
class SeriesSlot:
    """Which rules a series follows, its live models and when it was last seen."""

    rule: int
    forecast: int
    last_ts: float
    model: SeriesModel | HalfSpaceTreesModel | None = None
    trend: TrendModel | None = None

    def to_dict(self) -> JsonDict:
        return {"rule": self.rule, "forecast": self.forecast, "last_ts": self.last_ts,
                "model": None if self.model is None else self.model.to_dict(),
                "trend": None if self.trend is None else self.trend.to_dict()}


@dataclass(slots=True)
class MetricState:
    """Series key -> slot. ``to_dict`` is plain JSON data; loading needs the operator's
    configuration (``MetricDetector.restore_state``)."""

    series: dict[str, SeriesSlot] = field(default_factory=dict)
    version: int = STATE_VERSION
    keys: SeriesKeys = field(default_factory=SeriesKeys, compare=False, repr=False)
    """Series key memo (a cache, never serialized)."""

    def key_of(self, point: MetricPoint) -> str:
        """``point.key``, remembered (``engine.detect.series_keys``)."""
        return self.keys.key_of(point)

    def to_dict(self) -> JsonDict:
        return {"version": self.version,
                "series": {key: slot.to_dict() for key, slot in self.series.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any], configs: ModelConfigs | None = None) -> MetricState:
        from engine.detect.metric import ModelConfigs
        from engine.rules.detectors import DetectorRules

        configs = configs or ModelConfigs.of(DetectorRules())
        version = data.get("version")
        if version in (1, 2, 3, 4, 5, 6, 7, 8, 9):
            data = upgrade(data, configs)
        elif version != STATE_VERSION:
            raise ValueError(f"metric state version {version!r} is not supported: this build "
                             f"reads versions 1 to {STATE_VERSION}")
        state = cls()
        for key, raw in data["series"].items():
            slot = SeriesSlot(raw["rule"], raw["forecast"], raw["last_ts"])
            if raw["model"] is not None:
                slot.model = _load_model(configs, raw["rule"], raw["model"])
            if raw["trend"] is not None:
                slot.trend = TrendModel.from_dict(configs.forecasts[raw["forecast"]], raw["trend"])
            state.series[key] = slot
        return state

    def evict_oldest(self) -> str:
        """Forget the least recently seen series (O(series); runs only at the cap)."""
        key = min(self.series, key=lambda k: self.series[k].last_ts)
        del self.series[key]
        return key


def _load_model(configs: ModelConfigs, rule: int,
                raw: dict[str, Any]) -> SeriesModel | HalfSpaceTreesModel:
    if configs.rules[rule].detector is MetricDetectorKind.HALFSPACETREES:
        return HalfSpaceTreesModel.from_dict(raw)
    return SeriesModel.from_dict(configs.series[rule], raw)


def upgrade(data: dict[str, Any], configs: ModelConfigs) -> dict[str, Any]:
    """An older snapshot as the current version: Vigil models get fresh values for missing
    fields and lose fields that no longer exist; HalfSpaceTrees models are unchanged."""
    series = {}
    for key, raw in data["series"].items():
        model = raw["model"]
        trees = configs.rules[raw["rule"]].detector is MetricDetectorKind.HALFSPACETREES
        if model is not None and not trees:
            fresh = SeriesModel(configs.series[raw["rule"]]).to_dict()
            model = _with_v9_fields(_with_v8_fields(_with_totals(
                {**fresh, **{k: v for k, v in model.items() if k in fresh}}, model),
                model, raw["last_ts"]), model, configs.series[raw["rule"]].error_alpha)
        series[key] = {**raw, "model": model}
    return {**data, "version": STATE_VERSION, "series": series}


def _with_v8_fields(model: dict[str, Any], old: dict[str, Any],
                    last_ts: float) -> dict[str, Any]:
    """``model`` with the fields state version 8 added, as far as the ``old`` one implies them:
    the last point's time is the slot's, the typical interval is learnt from the next gap, a
    series is a count while its range and last value are non-negative integers, and a quiet
    period under way escalates only past 21 decades (its report's are unknown)."""
    if "prev_ts" in old:
        return model
    whole = [float(model[k]) for k in ("lo", "hi", "last")]
    return {**model, "prev_ts": float(last_ts), "dt": 0.0,
            "integral": all(v >= 0.0 and v == int(v) for v in whole),
            "quiet_decades": 20.0 if old.get("quiet", 0) else 0.0}


def _with_v9_fields(model: dict[str, Any], old: dict[str, Any],
                    error_alpha: float) -> dict[str, Any]:
    """``model`` with the slow view's mean and variance (state version 9) the ``old`` one
    lacks: the level and the square of its (de-biased) error scale, so a restored series
    does not score its next point against a slow mean of 0."""
    if "slow_mean" in old:
        return model
    debias = max(1.0 - float(model["unlearnt"]), error_alpha)
    scale = 1.25 * float(model["err_level"]) / debias
    return {**model, "slow_mean": float(model["level"]), "slow_var": scale * scale}


def _with_totals(model: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """``model`` with the running histogram sums (state version 5) the ``old`` one lacks."""
    model = {**model, "context": {**model["context"]}}
    for total, hist in (("hist_total", "hist"), ("shift_total", "shift_hist")):
        if total not in old:
            model[total] = float(sum(model[hist]))
    if "total" not in old.get("context", {}):
        model["context"]["total"] = float(sum(model["context"]["counts"]))
    return model
