"""Model-performance status as Prometheus gauges, and the snapshot the API serves.

One series per (model, metric) the ``monitoring`` rules check, so the label set stays as small
as the rules. ``vigil_model_metric`` is NaN while the metric has ``insufficient_labels``: a
dashboard rule on the value never fires on a handful of labels. ``vigil_model_metric_status``
is 1 for the current status (``ok``, ``breach``, ``insufficient_labels``) and 0 for the others;
``vigil_model_metric_effective_labels`` is the effective sample (predicted positives for
precision, actual positives for recall, ...); ``vigil_model_metric_bound`` the one-sided
confidence bounds (``side`` = lower, upper). Estimates from scores carry ``estimate="true"``.
"""

from __future__ import annotations

import math
from typing import Any, Final

from prometheus_client import CollectorRegistry, Gauge

from engine.detect.model_state import ModelMonitorState
from engine.detect.performance_bounds import MetricStatus

STATUSES: Final = tuple(s.value for s in MetricStatus)


class ModelMetrics:
    """The gauges, and ``snapshot``: model -> metric -> latest status record (plain data)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        keys = ["model", "metric", "estimate"]
        self.value = Gauge(
            "vigil_model_metric",
            "Latest value of a model performance metric (NaN while insufficient labels)",
            keys,
            registry=registry,
        )
        self.status = Gauge(
            "vigil_model_metric_status",
            "1 for the metric's current status: ok, breach or insufficient_labels",
            [*keys, "status"],
            registry=registry,
        )
        self.labels = Gauge(
            "vigil_model_metric_effective_labels",
            "Effective labels behind the metric (predicted positives for precision, ...)",
            keys,
            registry=registry,
        )
        self.bound = Gauge(
            "vigil_model_metric_bound",
            "One-sided confidence bound of the metric (side: lower, upper)",
            [*keys, "side"],
            registry=registry,
        )
        self.snapshot: dict[str, dict[str, dict[str, Any]]] = {}

    def observe(self, state: ModelMonitorState) -> None:
        """Copy every model's latest metric statuses into the gauges and the snapshot."""
        for model, track in state.models.items():
            for metric, record in track.perf_status.items():
                self._set(model, metric, record)
            if track.perf_status:
                self.snapshot[model] = {k: dict(v) for k, v in track.perf_status.items()}

    def _set(self, model: str, metric: str, record: dict[str, Any]) -> None:
        estimate = "true" if record.get("estimate") else "false"
        status = str(record.get("status", MetricStatus.INSUFFICIENT_LABELS.value))
        value = record.get("value")
        if status == MetricStatus.INSUFFICIENT_LABELS.value or value is None:
            value = math.nan
        self.value.labels(model, metric, estimate).set(float(value))
        for name in STATUSES:
            self.status.labels(model, metric, estimate, name).set(1 if name == status else 0)
        self.labels.labels(model, metric, estimate).set(float(record.get("n_effective") or 0))
        for side in ("lower", "upper"):
            bound = record.get(side)
            self.bound.labels(model, metric, estimate, side).set(
                math.nan if bound is None else float(bound)
            )
