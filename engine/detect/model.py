"""ML model monitor: data drift, prediction drift and performance on delayed labels.

Predictions are checked in tumbling event-time windows (``engine.detect.window``): at the end
of each ``data_drift.check_interval`` every monitored feature is tested against the model's
reference profile (KS or chi-square, with the alarm control of ``engine.detect.alarm``); at the
end of each ``prediction_drift.check_interval`` the model's outputs are compared by PSI. Labels
are joined to predictions (``engine.detect.labels_join``) and the configured metrics are checked
every ``model_performance.check_interval`` (``engine.detect.model_performance``): a metric
alarms only when its confidence bound is past the user's limit on enough labels (else it is
``insufficient_labels``), a change-point scan on the late labels catches a sustained drop early,
and a confidence-based estimate, marked as such, stands in while too few labels have arrived
(reported, raised only with ``estimate_alarms``). Windows close
when an event of a later window arrives or when ``now`` passes their end; performance checks
run when ``now`` (the watermark) passes a check boundary, after the batch is consumed. Never by
wall clock.
Within a batch, each model's predictions are consumed before its labels.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from engine.detect.labels_join import join
from engine.detect.model_performance import remember_predictions, roll_performance
from engine.detect.model_state import PREDICTION, ModelMonitorState, ModelTrack
from engine.detect.model_windows import (
    ModelCheck,
    add_features,
    add_outputs,
    output_of,
    roll_features,
    roll_outputs,
)
from engine.detect.profile import ReferenceProfile, build_profile
from engine.detect.window import WindowState
from engine.events import Anomaly, EventTime, GroundTruth, Prediction
from engine.operator import OperatorExample, register_example
from engine.rules.monitoring import ModelMonitoringSpec, MonitoringConfig
from engine.testing import T0

Event = Prediction | GroundTruth


@dataclass(frozen=True, slots=True, eq=False)
class ModelMonitor:
    """Drift and performance monitoring of every model the ``monitoring`` rules cover.

    ``references`` maps a model to its stored reference profile (connectors load them; see
    ``connectors.reference``). A model without one uses its first
    ``reference.first_predictions`` predictions as reference; those are not monitored. State is
    updated in place (hot path) and returned.

    Examples
    --------
    >>> from engine.rules.monitoring import MonitoringConfig
    >>> cfg = MonitoringConfig.model_validate({"data_drift": {
    ...     "features_to_monitor": [{"name": "x", "threshold": 0.05}], "check_interval": "1h"}})
    >>> ref = build_profile("m", {"x": [float(i % 100) for i in range(1000)]})
    >>> op = ModelMonitor(cfg, {"m": ref})
    >>> preds = [Prediction(ts=3600.0 * (i // 500) + i % 500, model="m", id=str(i),
    ...          features={"x": float(i % 100) + (60.0 if i >= 1000 else 0.0)}, prediction=0)
    ...          for i in range(2000)]
    >>> state, out = op.process(op.initial_state(), preds, now=0.0)
    >>> [(a.kind.value, a.node, a.subject["feature"], a.ts) for a in out]
    [('data_drift', 'm', 'x', 10800.0)]
    """

    config: MonitoringConfig | None = None
    references: Mapping[str, ReferenceProfile] = field(default_factory=dict)
    seed: int = 0
    name: str = "models"

    @classmethod
    def from_rules(cls, rules: MonitoringConfig | None) -> ModelMonitor:
        return cls(config=rules)

    def with_references(self, references: Mapping[str, ReferenceProfile]) -> ModelMonitor:
        """The same monitor with stored reference profiles (model name -> profile)."""
        return replace(self, references=dict(references))

    def initial_state(self) -> ModelMonitorState:
        return ModelMonitorState(seed=self.seed)

    def process(
        self, state: ModelMonitorState, batch: Sequence[Event], *, now: EventTime
    ) -> tuple[ModelMonitorState, list[Anomaly]]:
        """Consume predictions and labels in order; anomalies come out ordered by (ts, id)."""
        out: list[Anomaly] = []
        if self.config is None:
            return state, out
        predictions: dict[str, list[Prediction]] = {}
        labels: dict[str, list[GroundTruth]] = {}
        for event in batch:
            group = labels if type(event) is GroundTruth else predictions
            group.setdefault(event.model, []).append(event)  # type: ignore[arg-type]
        for model in sorted(predictions.keys() | labels.keys()):
            spec = self.config.spec_for(model)
            if spec is None:
                continue
            track = state.models.setdefault(model, ModelTrack())
            if model in predictions:
                self._predictions(state, spec, model, predictions[model], out)
            if model in labels and spec.model_performance is not None:
                join(track.labels, labels[model], spec.model_performance.max_pending)
        for model, track in state.models.items():
            spec = self.config.spec_for(model)
            if spec is not None:
                self._advance(spec, track, model, now, out)
        out.sort(key=lambda a: (a.ts, a.id))
        return state, [self._scoped(state, a) for a in out]

    def _scoped(self, state: ModelMonitorState, anomaly: Anomaly) -> Anomaly:
        """The anomaly with the labels that scope its model: those of the model's latest
        labelled prediction, then the spec's ``labels``, then ``model`` (as every detector's
        anomaly carries its cluster, so a worker correlates it with the rest of its cluster)."""
        model = anomaly.node
        track, spec = state.models.get(model), self.config and self.config.spec_for(model)
        scope = {**(track.scope if track else {}), **(spec.labels if spec else {})}
        return replace(anomaly, labels={**scope, **anomaly.labels}) if scope else anomaly

    # -- predictions ---------------------------------------------------------------------------

    def _predictions(
        self,
        state: ModelMonitorState,
        spec: ModelMonitoringSpec,
        model: str,
        preds: list[Prediction],
        out: list[Anomaly],
    ) -> None:
        track = state.models[model]
        track.version = preds[-1].version or track.version
        track.scope = next((dict(p.labels) for p in reversed(preds) if p.labels), track.scope)
        preds = self._bootstrap(spec, track, model, preds)
        check = self._check(spec, track, model, out)
        if not preds or check is None:
            return
        ts = np.fromiter((p.ts for p in preds), np.float64, len(preds))
        if spec.model_performance is not None:
            remember_predictions(spec.model_performance, track, preds)
        if spec.data_drift is not None:
            add_features(check, preds, ts, state.seed)
        if spec.prediction_drift is not None and check.reference.prediction is not None:
            add_outputs(check, preds, ts, state.seed)

    def _bootstrap(
        self, spec: ModelMonitoringSpec, track: ModelTrack, model: str, preds: list[Prediction]
    ) -> list[Prediction]:
        """Feed the first N predictions to the learned reference; return the rest."""
        stored = self.references.get(model)
        needs_outputs = spec.prediction_drift is not None
        if track.reference is not None or (
            stored is not None and (stored.prediction is not None or not needs_outputs)
        ):
            return preds
        take = min(spec.reference.first_predictions - track.boot_rows, len(preds))
        for p in preds[:take]:
            for name, value in p.features.items():
                track.boot.setdefault(name, [None] * track.boot_rows).append(value)
            track.boot.setdefault(PREDICTION, [None] * track.boot_rows).append(output_of(p))
            track.boot_rows += 1
            for column in track.boot.values():
                if len(column) < track.boot_rows:
                    column.append(None)
        if track.boot_rows >= spec.reference.first_predictions:
            outputs = track.boot.pop(PREDICTION, [])
            track.reference = build_profile(model, track.boot, outputs, seed=0)
            track.boot, track.boot_rows = {}, 0
        return preds[take:]

    def _check(
        self, spec: ModelMonitoringSpec, track: ModelTrack, model: str, out: list[Anomaly]
    ) -> ModelCheck | None:
        """The model's windows to fill and close, or None while it has no reference profile."""
        reference = self._reference(model, track)
        return None if reference is None else ModelCheck(model, spec, track, reference, out)

    def _reference(self, model: str, track: ModelTrack) -> ReferenceProfile | None:
        stored, learned = self.references.get(model), track.reference
        if stored is None or learned is None:
            return stored or learned
        return replace(stored, prediction=stored.prediction or learned.prediction)

    # -- event time ----------------------------------------------------------------------------

    def _advance(
        self,
        spec: ModelMonitoringSpec,
        track: ModelTrack,
        model: str,
        now: float,
        out: list[Anomaly],
    ) -> None:
        """Close every window and check whose end ``now`` has passed."""
        check = self._check(spec, track, model, out)
        if check is None:
            return
        drift, outputs, perf = spec.data_drift, spec.prediction_drift, spec.model_performance
        if drift is not None and _passed(track.features, now, drift.check_interval):
            roll_features(check, _index(now, drift.check_interval))
        has_outputs = outputs is not None and check.reference.prediction is not None
        if has_outputs and _passed(track.outputs, now, outputs.check_interval):  # type: ignore[union-attr]
            roll_outputs(check, _index(now, outputs.check_interval))  # type: ignore[union-attr]
        if perf is not None:
            roll_performance(perf, track, model, _index(now, perf.check_interval), out)


def _index(ts: float, interval_s: float) -> int:
    return math.floor(ts / interval_s)


def _passed(window: WindowState, now: float, interval_s: float) -> bool:
    return window.index is not None and _index(now, interval_s) > window.index


def _example_monitor() -> ModelMonitor:
    from engine.rules import parse

    rules = parse(_EXAMPLE_RULES, "example")
    return ModelMonitor.from_rules(rules.monitoring)


def _example_batch() -> list[Event]:
    from testing.scenarios.predictions import generate_predictions

    return generate_predictions(seed=5, n=3000, rate_per_s=0.5, drift_at=3600.0, start=T0)


_EXAMPLE_RULES = """
monitoring:
  data_drift:
    features_to_monitor: [{name: amount, threshold: 0.05}, {name: merchant, threshold: 0.05}]
    check_interval: 10m
    min_samples: 50
  prediction_drift: {threshold: 0.2, check_interval: 20m, min_samples: 50}
  model_performance:
    metrics: [{name: f1_score, minimum: 0.9, window: 1h}]
    check_interval: 10m
    min_labels: 20
  reference: {first_predictions: 200}
"""

register_example(OperatorExample("models", _example_monitor, _example_batch, ModelMonitorState))
