"""Rule section ``monitoring``: ML model monitoring, in the user's own format (spec/ config)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from engine.rules.base import DurationS, StrictModel

ActionName = Literal[
    "alert_team",
    "trigger_investigation_notebook",
    "trigger_retraining_pipeline",
    "switch_to_fallback_model",
]


class MonitoredFeature(StrictModel):
    name: str = Field(min_length=1)
    threshold: float = Field(gt=0.0, lt=1.0)
    """p-value below which the feature is drifting."""


class DataDrift(StrictModel):
    method: Literal["kolmogorov_smirnov"] = "kolmogorov_smirnov"
    features_to_monitor: list[MonitoredFeature] = Field(default_factory=list)
    check_interval: DurationS = 3600.0
    alert_on: Literal["drift_detected"] = "drift_detected"


class PredictionDrift(StrictModel):
    method: Literal["population_stability_index"] = "population_stability_index"
    threshold: float = Field(0.2, gt=0.0)
    check_interval: DurationS = 21600.0


class PerformanceMetric(StrictModel):
    name: Literal["f1_score", "precision", "recall", "accuracy", "roc_auc"]
    minimum: float = Field(ge=0.0, le=1.0)
    window: DurationS = 604800.0


class ModelPerformance(StrictModel):
    metrics: list[PerformanceMetric] = Field(default_factory=list)
    alert: str | None = None


class MonitoringActions(StrictModel):
    on_drift_detected: list[ActionName] = Field(default_factory=list)
    on_performance_degradation: list[ActionName] = Field(default_factory=list)


class MonitoringConfig(StrictModel):
    data_drift: DataDrift | None = None
    prediction_drift: PredictionDrift | None = None
    model_performance: ModelPerformance | None = None
    actions: MonitoringActions = MonitoringActions()
