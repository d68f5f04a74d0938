"""One windowed metric at one check: measured on joined labels, or estimated from scores.

Measured when at least ``min_labels`` labels joined to predictions of the window; the value
carries its one-sided bound and effective sample (``engine.detect.performance_bounds``).
Otherwise a classification metric is estimated from the calibrated scores of the predictions
still waiting (``estimate_metrics``), with a Wilson bound on the expected counts: it states the
uncertainty of the sample size, not of the calibration. ``detail`` is what the status record
and an anomaly carry: ``status``, ``value``, ``lower``, ``upper``, ``confidence``, ``test``,
``n_labels``, ``n_effective``, ``estimate`` (and ``n_estimated`` for estimates).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.detect.model_state import ModelTrack
from engine.detect.performance import CLASSIFICATION, JoinedColumns, positives, roc_auc
from engine.detect.performance_bounds import (
    Bounded,
    Counts,
    MetricStatus,
    bound_auc,
    bound_classification,
    bound_errors,
    status_of,
    z_of,
)
from engine.events import JsonDict
from engine.rules.monitoring import ModelPerformance, PerformanceMetric

TESTS = {
    "precision": "wilson",
    "recall": "wilson",
    "accuracy": "wilson",
    "f1_score": "wilson_f1",
    "roc_auc": "hanley_mcneil",
    "mae": "normal_mean",
    "rmse": "normal_mean",
}


@dataclass(frozen=True, slots=True)
class MetricCheck:
    """The status of one metric at one check; ``value`` None when it cannot be computed."""

    status: MetricStatus
    value: float | None
    estimate: bool
    detail: JsonDict


def check_window(
    track: ModelTrack,
    columns: JoinedColumns,
    perf: ModelPerformance,
    metric: PerformanceMetric,
    check_ts: float,
) -> MetricCheck:
    """The metric on the rows predicted in ``(check_ts - window, check_ts]``."""
    since = check_ts - metric.window
    rows = columns.since(since)
    n = len(rows.ts)
    z = z_of(perf.confidence)
    if n >= perf.min_labels:
        return _judge(perf, metric, _measure(metric.name, rows, z), False, {"n_labels": n})
    if metric.name not in CLASSIFICATION:
        return _judge(perf, metric, None, False, {"n_labels": n})
    waiting = [v for v in track.labels.pending.values() if v[2] is not None and v[0] >= since]
    extra: JsonDict = {"n_labels": n, "n_estimated": len(waiting)}
    if len(waiting) < perf.min_labels:
        return _judge(perf, metric, None, True, extra)
    flags = positives([v[1] for v in waiting], perf.positive_label)
    scores = np.clip(np.array([v[2] for v in waiting], dtype=np.float64), 0.0, 1.0)
    counts = Counts(
        float(scores[flags].sum()),
        float((1 - scores[flags]).sum()),
        float(scores[~flags].sum()),
        float((1 - scores[~flags]).sum()),
    )
    return _judge(perf, metric, bound_classification(metric.name, counts, z), True, extra)


def _measure(name: str, rows: JoinedColumns, z: float) -> Bounded | None:
    truth, pred = rows.truth, rows.predicted
    if name in CLASSIFICATION:
        tp, fp = float(np.sum(truth & pred)), float(np.sum(~truth & pred))
        fn = float(np.sum(truth & ~pred))
        return bound_classification(name, Counts(tp, fp, fn, len(truth) - tp - fp - fn), z)
    if name == "roc_auc":
        area = roc_auc(truth, rows.scores) if rows.scores is not None else None
        n_pos = int(truth.sum())
        return None if area is None else bound_auc(area, n_pos, len(truth) - n_pos, z)
    return bound_errors(name, rows.errors, z) if rows.errors is not None else None


def _judge(
    perf: ModelPerformance,
    metric: PerformanceMetric,
    bounded: Bounded | None,
    estimate: bool,
    extra: JsonDict,
) -> MetricCheck:
    detail: JsonDict = {"estimate": estimate, "test": TESTS[metric.name], **extra}
    if bounded is None:
        detail["status"] = MetricStatus.INSUFFICIENT_LABELS.value
        return MetricCheck(MetricStatus.INSUFFICIENT_LABELS, None, estimate, detail)
    if perf.alarm_on == "point_estimate":
        low = metric.minimum is not None and bounded.value < metric.minimum
        high = metric.maximum is not None and bounded.value > metric.maximum
        status = MetricStatus.BREACH if low or high else MetricStatus.OK
        detail["test"] = "point_estimate"
    else:
        status = status_of(bounded, metric.minimum, metric.maximum, perf.min_effective_labels)
    detail |= {
        "status": status.value,
        "value": bounded.value,
        "lower": bounded.lower,
        "upper": bounded.upper,
        "confidence": perf.confidence,
        "n_effective": bounded.n_effective,
    }
    return MetricCheck(status, bounded.value, estimate, detail)
