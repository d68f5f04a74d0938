"""Performance part of the ML model monitor: predictions awaiting labels, and the checks.

Every ``model_performance.check_interval`` of event time, once ``now`` passes the boundary,
predictions older than ``label_horizon`` stop waiting (``engine.detect.labels_join``) and each
configured metric is computed on the labels joined to predictions of its ``window``, with its
confidence bound (``engine.detect.performance_bounds``). The metric's latest status (``ok``,
``breach`` or ``insufficient_labels``, with value, bounds and sample) is kept in
``track.perf_status`` for the console, the API and the metrics. With fewer than ``min_labels``
joined rows, a classification metric is estimated from the calibrated scores of the predictions
still waiting (marked ``estimate``; it raises anomalies only with ``estimate_alarms``). A metric
that newly breaches emits one anomaly, and again only after a check that found it ``ok``. The
change-point scan (``engine.detect.performance_change``) runs beside it on the same rows and
emits its own anomaly (``test: fisher_changepoint``) when a recent drop is significant.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.detect.labels_join import expire, remember
from engine.detect.model_anomalies import performance_anomaly
from engine.detect.model_state import ModelTrack
from engine.detect.performance import JoinedColumns
from engine.detect.performance_bounds import MetricStatus, z_of
from engine.detect.performance_change import SCANNED, ChangeScan, scan
from engine.detect.performance_window import MetricCheck, check_window
from engine.events import Anomaly, JsonDict, Prediction
from engine.rules.monitoring import ModelPerformance, PerformanceMetric

REARM_P = 0.05
"""A change-point alarm re-arms after a check whose best split has adjusted p >= this (as the
drift alarms re-arm once a check no longer sees drift)."""


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
        for metric in perf.metrics:
            changed = _change(track, model, perf, metric, columns, check_ts)
            checked = check_window(track, columns, perf, metric, check_ts)
            track.perf_status[metric.name] = {"ts": check_ts, **checked.detail}
            windowed = _alarm(track, model, perf, metric, checked, check_ts)
            out.extend(a for a in (changed, windowed) if a is not None)
    track.perf_index = index


def _alarm(
    track: ModelTrack,
    model: str,
    perf: ModelPerformance,
    metric: PerformanceMetric,
    checked: MetricCheck,
    ts: float,
) -> Anomaly | None:
    """The anomaly when ``metric`` newly breaches (alarms re-arm after an ``ok`` check).

    While the change-point alarm of the same metric is on, the drop has been reported: the
    breach is recorded (status, alarm state) but raises no second anomaly."""
    if checked.status is MetricStatus.INSUFFICIENT_LABELS or checked.value is None:
        return None
    key = f"{metric.name}:estimate" if checked.estimate else metric.name
    breached = checked.status is MetricStatus.BREACH
    was = track.perf_alarms.get(key, False)
    track.perf_alarms[key] = breached
    pages = not checked.estimate or perf.estimate_alarms or perf.alarm_on == "point_estimate"
    pages = pages and not track.perf_alarms.get(f"{metric.name}:change", False)
    if not breached or was or not pages:
        return None
    bound = metric.minimum if metric.minimum is not None else metric.maximum
    assert bound is not None  # noqa: S101  (checked by the rules)
    detail: JsonDict = {**checked.detail, "window_s": metric.window}
    return performance_anomaly(model, metric.name, checked.value, bound, detail, ts)


def _change(
    track: ModelTrack,
    model: str,
    perf: ModelPerformance,
    metric: PerformanceMetric,
    columns: JoinedColumns,
    ts: float,
) -> Anomaly | None:
    """The change-point anomaly when a recent drop of ``metric`` newly shows."""
    if (
        not perf.change_detection
        or perf.alarm_on == "point_estimate"
        or metric.name not in SCANNED
        or metric.minimum is None
    ):
        return None
    since = ts - metric.window
    cfg = ChangeScan(
        since,
        ts,
        perf.check_interval,
        metric.minimum,
        perf.change_min_labels,
        z_of(perf.confidence),
        perf.check_interval / perf.expected_run_time,
    )
    finding = scan(columns, metric.name, cfg)
    key = f"{metric.name}:change"
    was = track.perf_alarms.get(key, False)
    # re-arms only once no split sees a drop at REARM_P (no flapping around the level)
    track.perf_alarms[key] = finding is not None and (
        finding.alarm or (was and finding.adjusted_p_value < REARM_P)
    )
    if finding is None or not finding.alarm or was:
        return None
    detail: JsonDict = {
        "test": "fisher_changepoint",
        "estimate": False,
        "status": MetricStatus.BREACH.value,
        "since": finding.split_ts,
        "p_value": finding.p_value,
        "adjusted_p_value": finding.adjusted_p_value,
        "level": cfg.level,
        "n_splits": finding.n_splits,
        "n_labels": finding.n_after,
        "n_before": finding.n_before,
        "errors": finding.errors_after,
        "upper": finding.upper_after,
        "confidence": perf.confidence,
        "window_s": metric.window,
    }
    value = finding.value_after
    return performance_anomaly(model, metric.name, value, metric.minimum, detail, ts)
