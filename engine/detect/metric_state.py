"""State of the metric operator: one slot per series, with a bounded series count."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.detect.baseline import SeriesModel
from engine.detect.forecast import TrendModel
from engine.detect.river_trees import HalfSpaceTreesModel

if TYPE_CHECKING:
    from engine.detect.metric import ModelConfigs


@dataclass(slots=True)
class SeriesSlot:
    """Which rules a series follows, its live models and when it was last seen."""

    rule: int
    forecast: int
    last_ts: float
    model: SeriesModel | HalfSpaceTreesModel | None = None
    trend: TrendModel | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "forecast": self.forecast, "last_ts": self.last_ts,
                "model": None if self.model is None else self.model.to_dict(),
                "trend": None if self.trend is None else self.trend.to_dict()}


@dataclass(slots=True)
class MetricState:
    """Series key -> slot. ``to_dict`` is plain JSON data; loading needs the operator's
    configuration (``MetricDetector.restore_state``)."""

    series: dict[str, SeriesSlot] = field(default_factory=dict)
    version: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version,
                "series": {key: slot.to_dict() for key, slot in self.series.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any], configs: ModelConfigs | None = None) -> MetricState:
        from engine.detect.metric import ModelConfigs
        from engine.rules.detectors import DetectorRules

        configs = configs or ModelConfigs.of(DetectorRules())
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
    if configs.rules[rule].detector == "halfspacetrees":
        return HalfSpaceTreesModel.from_dict(raw)
    return SeriesModel.from_dict(configs.series[rule], raw)
