"""Rule section ``monitoring``: ML model monitoring, in the user's own format.

The user's file (``rules/model_monitoring.yml``) loads unchanged: ``data_drift``,
``prediction_drift``, ``model_performance`` and ``actions``. With no ``model`` named it applies
to every model on the predictions topic. The per-model form adds ``model: NAME`` at the top, or
lists entries under ``models:`` (each with its own ``model``); a model listed there uses its
entry instead of the top-level one.

Optional keys beyond the user's format (all with defaults, so the user's file keeps its meaning):

* ``data_drift``: ``correction`` (holm | bonferroni | none, default holm, across the model's
  features at each check), ``expected_run_time`` (default 180d: a feature alarms only when its
  evidence is below ``check_interval / expected_run_time``, see ``engine.detect.alarm``),
  ``window_max_samples`` (reservoir cap per feature and window, default 5000), ``min_samples``
  (default 100). Categorical features (string values) get chi-square instead of KS.
* ``prediction_drift``: ``bins`` (default 10), ``min_samples`` (default 200),
  ``window_max_samples`` (default 5000).
* ``model_performance``: ``label_horizon`` (default 7d), ``check_interval`` (default 1h),
  ``min_labels`` (default 50), ``positive_label`` (default 1), ``max_pending`` (default 100000
  predictions awaiting a label); a metric may give ``maximum`` instead of ``minimum`` (mae, rmse).
  Alarm discipline (``engine.detect.performance_bounds``, ``engine.detect.performance_change``):
  ``alarm_on`` (``confidence_bound``, default, or ``point_estimate``, the old rule),
  ``confidence`` (default 0.99, one-sided), ``min_effective_labels`` (default 30: below it the
  metric is ``insufficient_labels``, never a breach), ``change_detection`` (default true: the
  change-point scan for an early alarm on a sustained drop), ``change_min_labels`` (default 10),
  ``expected_run_time`` (default 180d, the scan's false-alarm control), ``estimate_alarms``
  (default false: the estimate from scores before labels is reported, never raised by itself).
* ``actions``: ``retrain_cooldown`` (default 24h), ``fallback_cooldown`` (default 24h),
  ``incident_wait`` (default 30m: a retrain request is held until the incident record holding
  its anomaly arrives, at most this long; see ``engine.act.retrain``),
  ``notebook_receiver`` (default ``investigation-notebook``, a webhook receiver), ``fallback``
  (``alias``/``version`` for the MLflow alias move).
* ``reference``: ``first_predictions`` (default 1000): with no stored reference profile for a
  model, its first N predictions become the reference.
* ``labels`` (default none): labels that scope the model's anomalies (``cluster``, ``team``,
  ...; a worker partitions the incident stage by ``cluster``). Without it a model's anomalies
  carry the labels of its latest prediction that had any (docs/events.md); given, they win.

``alert: "slack://ml-alerts"`` names a Slack receiver called ``ml-alerts``; routing defines it.
``check_monitoring`` (a cross-check run at load) verifies that every ``alert`` names a receiver
of that type in ``routing``, and that ``notebook_receiver`` names a webhook receiver when
``trigger_investigation_notebook`` is listed. A receiver may be disabled (``enabled: false``,
its actions then fail at delivery with the reason); when no loaded file has a ``routing``
section (checking the monitoring file on its own), the receivers cannot be known and these two
checks are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal, Self

from pydantic import Field, field_validator, model_validator

from engine.rules.base import DurationS, StrictModel
from engine.rules.errors import RuleProblem

if TYPE_CHECKING:
    from engine.rules.schema import Locator, RuleSet

ActionName = Literal[
    "alert_team",
    "trigger_investigation_notebook",
    "trigger_retraining_pipeline",
    "switch_to_fallback_model",
]
_RECEIVER_URL = re.compile(r"^(slack|webhook|pagerduty|email)://([A-Za-z0-9_.\-]+)$")


class MonitoredFeature(StrictModel):
    name: str = Field(min_length=1)
    threshold: float = Field(0.05, gt=0.0, lt=1.0)
    """p-value below which a check sees the feature drifting."""


class DataDrift(StrictModel):
    method: Literal["kolmogorov_smirnov"] = "kolmogorov_smirnov"
    """For numeric features; categorical features (string values) get chi-square."""
    features_to_monitor: list[MonitoredFeature] = Field(default_factory=list)
    check_interval: DurationS = Field(3600.0, gt=0.0)
    alert_on: Literal["drift_detected"] = "drift_detected"
    correction: Literal["holm", "bonferroni", "none"] = "holm"
    expected_run_time: DurationS = Field(180 * 86400.0, gt=0.0)
    window_max_samples: int = Field(5000, ge=10)
    min_samples: int = Field(100, ge=2)


class PredictionDrift(StrictModel):
    method: Literal["population_stability_index"] = "population_stability_index"
    threshold: float = Field(0.2, gt=0.0)
    check_interval: DurationS = Field(21600.0, gt=0.0)
    bins: int = Field(10, ge=2, le=100)
    min_samples: int = Field(200, ge=2)
    window_max_samples: int = Field(5000, ge=10)


class PerformanceMetric(StrictModel):
    name: Literal["f1_score", "precision", "recall", "accuracy", "roc_auc", "mae", "rmse"]
    minimum: float | None = None
    maximum: float | None = None
    window: DurationS = Field(604800.0, gt=0.0)

    @model_validator(mode="after")
    def _one_bound(self) -> Self:
        if (self.minimum is None) == (self.maximum is None):
            raise ValueError("give exactly one of minimum or maximum")
        bound = self.minimum if self.minimum is not None else self.maximum
        if self.name not in ("mae", "rmse") and not 0.0 <= float(bound or 0.0) <= 1.0:
            raise ValueError(f"{self.name} bounds must be in [0, 1] (got {bound})")
        return self


class ModelPerformance(StrictModel):
    metrics: list[PerformanceMetric] = Field(default_factory=list)
    alert: str | None = None
    """Where ``alert_team`` goes: ``slack://NAME`` (or webhook/pagerduty/email) names a receiver."""
    label_horizon: DurationS = Field(604800.0, gt=0.0)
    check_interval: DurationS = Field(3600.0, gt=0.0)
    min_labels: int = Field(50, ge=1)
    positive_label: int | str = 1
    max_pending: int = Field(100_000, ge=1)
    alarm_on: Literal["confidence_bound", "point_estimate"] = "confidence_bound"
    """``point_estimate`` is the old rule (value past the limit, any sample; no change test)."""
    confidence: float = Field(0.99, gt=0.5, lt=1.0)
    """One-sided confidence of the bound that must be past the limit for an alarm."""
    min_effective_labels: int = Field(30, ge=1)
    """Fewer effective labels (e.g. predicted positives for precision): insufficient labels."""
    change_detection: bool = True
    change_min_labels: int = Field(10, ge=1)
    """Rows a change-point split needs after it (predicted positives for precision, ...)."""
    expected_run_time: DurationS = Field(180 * 86400.0, gt=0.0)
    """The change test's level is ``check_interval / expected_run_time`` per check."""
    estimate_alarms: bool = False
    """Whether the estimate from scores (before labels) may raise anomalies by itself."""

    @field_validator("alert")
    @classmethod
    def _receiver_url(cls, value: str | None) -> str | None:
        if value is not None and not _RECEIVER_URL.match(value):
            raise ValueError(f"expected slack://RECEIVER (got {value!r})")
        return value

    @property
    def alert_receiver(self) -> tuple[str, str] | None:
        """``("slack", "ml-alerts")`` for ``slack://ml-alerts``; None when not set."""
        match = _RECEIVER_URL.match(self.alert or "")
        return (match.group(1), match.group(2)) if match else None


class FallbackTarget(StrictModel):
    alias: str = "champion"
    """The MLflow registered-model alias to move."""
    version: str | None = None
    """The fallback model version the alias moves to."""


class MonitoringActions(StrictModel):
    on_drift_detected: list[ActionName] = Field(default_factory=list)
    on_performance_degradation: list[ActionName] = Field(default_factory=list)
    retrain_cooldown: DurationS = 86400.0
    fallback_cooldown: DurationS = 86400.0
    incident_wait: DurationS = Field(1800.0, ge=0.0)
    """How long (event time) a retrain request waits for the incident holding its anomaly."""
    notebook_receiver: str = "investigation-notebook"
    fallback: FallbackTarget | None = None


class ReferenceSettings(StrictModel):
    first_predictions: int = Field(1000, ge=10)


class ModelMonitoringSpec(StrictModel):
    """Monitoring of one model (or of every model when ``model`` is None)."""

    model: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    """Labels that scope the model's anomalies (``cluster``, ...), over its predictions'."""
    data_drift: DataDrift | None = None
    prediction_drift: PredictionDrift | None = None
    model_performance: ModelPerformance | None = None
    actions: MonitoringActions = MonitoringActions()
    reference: ReferenceSettings = ReferenceSettings()


class MonitoringConfig(ModelMonitoringSpec):
    """The ``monitoring`` section: a spec for every model, plus optional per-model entries."""

    models: list[ModelMonitoringSpec] = Field(default_factory=list)

    @field_validator("models")
    @classmethod
    def _named(cls, value: list[ModelMonitoringSpec]) -> list[ModelMonitoringSpec]:
        seen: set[str] = set()
        for spec in value:
            if not spec.model:
                raise ValueError("every entry of models needs a model name")
            if spec.model in seen:
                raise ValueError(f"model {spec.model!r} is listed twice")
            seen.add(spec.model)
        return value

    def spec_for(self, model: str) -> ModelMonitoringSpec | None:
        """The spec that monitors ``model``: its own entry, else the top-level one if it applies.

        >>> cfg = MonitoringConfig.model_validate({"data_drift": {"check_interval": "1h"}})
        >>> cfg.spec_for("any-model").data_drift.check_interval
        3600.0
        """
        for spec in self.models:
            if spec.model == model:
                return spec
        if self.model not in (None, model):
            return None
        if self.data_drift or self.prediction_drift or self.model_performance:
            return self
        return None

    @property
    def receivers(self) -> list[tuple[str, str]]:
        """Receivers the section expects routing to define, as ``(type, name)``."""
        out: list[tuple[str, str]] = []
        for spec in [self, *self.models]:
            target = spec.model_performance.alert_receiver if spec.model_performance else None
            if target and target not in out:
                out.append(target)
        return out


def check_monitoring(rules: RuleSet, at: Locator) -> list[RuleProblem]:
    """Receivers the monitoring section sends to must be defined in routing, with their type."""
    if rules.monitoring is None or "routing" not in at.owners:
        return []
    kinds = {r.name: r.type for r in rules.routing.receivers}
    problems: list[RuleProblem] = []
    specs: list[tuple[tuple[str | int, ...], ModelMonitoringSpec]] = [
        (("monitoring",), rules.monitoring)
    ]
    specs += [(("monitoring", "models", i), s) for i, s in enumerate(rules.monitoring.models)]
    for path, spec in specs:
        perf = spec.model_performance
        target = perf.alert_receiver if perf is not None else None
        if target is not None:
            where = (*path, "model_performance", "alert")
            problems.extend(_check_receiver(at, where, kinds, target[1], target[0]))
        lists = ("on_drift_detected", "on_performance_degradation")
        for key in lists:
            names = getattr(spec.actions, key)
            if "trigger_investigation_notebook" in names:
                where = (*path, "actions", key, names.index("trigger_investigation_notebook"))
                receiver = spec.actions.notebook_receiver
                problems.extend(_check_receiver(at, where, kinds, receiver, "webhook"))
                break
    return problems


def _check_receiver(
    at: Locator, path: tuple[str | int, ...], kinds: Mapping[str, str], name: str, kind: str
) -> list[RuleProblem]:
    found = kinds.get(name)
    if found is None:
        defined = ", ".join(sorted(kinds)) or "none"
        return [at.problem(path, f"no receiver named {name!r} in routing (defined: {defined})")]
    if found != kind:
        return [at.problem(path, f"receiver {name!r} is of type {found}, expected {kind}")]
    return []
