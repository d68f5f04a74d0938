"""Performance part of the ML model monitor: predictions awaiting labels, and the checks.

Every ``model_performance.check_interval`` of event time, once ``now`` passes the boundary,
predictions older than ``label_horizon`` stop waiting (``engine.detect.labels_join``) and each
configured metric is computed on the labels joined to predictions of its ``window``
(``engine.detect.performance``; the joined rows are turned into columns once per check). With
fewer than ``min_labels`` joined rows, a classification metric is estimated from the calibrated
scores of the predictions still waiting (marked ``estimate``). A metric that crosses its bound
emits one anomaly, and again only after it recovered; measured and estimated values are
tracked apart.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.detect.labels_join import expire, remember
from engine.detect.model_anomalies import performance_anomaly
from engine.detect.model_state import ModelTrack
from engine.detect.performance import (
    CLASSIFICATION,
    JoinedColumns,
    estimate_metrics,
    positives,
)
from engine.events import Anomaly, JsonDict, Prediction
from engine.rules.monitoring import ModelPerformance, PerformanceMetric


def remember_predictions(
    perf: ModelPerformance, track: ModelTrack, preds: Sequence[Prediction]
) -> None:
    """Predictions start waiting for their labels."""
    rows = [(p.id, (p.ts, p.prediction, p.score)) for p in preds]
    remember(track.labels, rows, perf.max_pending)


def roll_performance(
    perf: ModelPerformance, track: ModelTrack, model: str, index: int, out: list[Anomaly]
) -> None:
    """Run the check of every boundary up to check number ``index`` (once per boundary)."""
    if track.perf_index is not None and index <= track.perf_index:
        return
    if track.perf_index is not None:
        check_ts = index * perf.check_interval
        keep_s = max([m.window for m in perf.metrics], default=perf.label_horizon)
        expire(track.labels, check_ts, perf.label_horizon, keep_s)
        columns = JoinedColumns.of(track.labels.joined, perf.positive_label)
        windows: dict[float, WindowMetrics] = {}
        for metric in perf.metrics:
            since = check_ts - metric.window
            if since not in windows:
                windows[since] = window_metrics(track, columns, perf, since)
            anomaly = _check_metric(track, model, metric, windows[since], check_ts)
            if anomaly is not None:
                out.append(anomaly)
    track.perf_index = index


WindowMetrics = tuple[dict[str, float], JsonDict]
"""Every metric of one window (measured, or estimated), and the detail anomalies carry."""


def _check_metric(
    track: ModelTrack,
    model: str,
    metric: PerformanceMetric,
    window: WindowMetrics,
    ts: float,
) -> Anomaly | None:
    """The anomaly when ``metric`` newly crosses its bound (alarms re-arm on recovery)."""
    values, shared = window
    value = values.get(metric.name)
    if value is None:
        return None
    detail = dict(shared)
    bound = metric.minimum if metric.minimum is not None else metric.maximum
    assert bound is not None  # noqa: S101  (checked by the rules)
    breached = value < bound if metric.minimum is not None else value > bound
    key = f"{metric.name}:estimate" if detail["estimate"] else metric.name
    anomaly = None
    if breached and not track.perf_alarms.get(key, False):
        detail["window_s"] = metric.window
        anomaly = performance_anomaly(model, metric.name, value, bound, detail, ts)
    track.perf_alarms[key] = breached
    return anomaly


def window_metrics(
    track: ModelTrack, columns: JoinedColumns, perf: ModelPerformance, since: float
) -> WindowMetrics:
    """The metrics on labels joined to predictions since ``since`` when there are at least
    ``min_labels``; else the classification metrics estimated from the scores of predictions
    still waiting (none when too few of those have scores either)."""
    n, metrics = columns.metrics_since(since, any(m.name == "roc_auc" for m in perf.metrics))
    if n >= perf.min_labels:
        return metrics, {"estimate": False, "n_labels": n}
    waiting = [v for v in track.labels.pending.values() if v[2] is not None]
    ts = np.fromiter((v[0] for v in waiting), dtype=np.float64, count=len(waiting))
    recent = ts >= since
    n_estimated = int(recent.sum())
    if n_estimated < perf.min_labels:
        return {}, {}
    flags = positives([v[1] for v in waiting], perf.positive_label)[recent]
    scores = np.array([v[2] for v in waiting], dtype=np.float64)[recent]
    estimated = estimate_metrics(flags, scores)
    detail: JsonDict = {"estimate": True, "n_labels": n, "n_estimated": n_estimated}
    return {k: v for k, v in estimated.items() if k in CLASSIFICATION}, detail
