"""Early detection of a sustained performance drop: a change-point scan on late labels.

The windowed metric (``model_performance.metrics[].window``, 7 days in the user's file) keeps
its meaning, but a 7-day average crosses its minimum days after a drop. This test looks at the
same joined rows in *prediction-time* order, so a drop shows as soon as the first late labels of
the bad period arrive. Each metric with a per-row error indicator is scanned:

* precision: predicted positives, error = false positive;
* recall: actual positives, error = false negative;
* f1_score: rows that are a predicted or an actual positive, error = not a true positive;
* accuracy: every row, error = wrong.

Split points are the check boundaries inside the window. For each split with at least
``change_min_labels`` indicator rows after it, a one-sided Fisher exact test (hypergeometric tail)
asks whether the rows after it err more than the rows before. The smallest p-value is Bonferroni
corrected by the number of splits tried and compared with the level of the drift alarm control
(``engine.detect.alarm``): ``check_interval / expected_run_time``, so stationary data gives about
one false alarm per ``expected_run_time`` at most. A split also has to show the metric *after* it
below the user's minimum with the metric's confidence (``engine.detect.performance_bounds``), so
a significant but harmless dip (0.99 -> 0.97 against a minimum of 0.85) never alarms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import hypergeom

from engine.detect.performance import JoinedColumns

SCANNED = ("precision", "recall", "f1_score", "accuracy")


@dataclass(frozen=True, slots=True)
class ChangeScan:
    """Settings of one scan: where the window starts, how splits are spaced, the limits."""

    since: float
    until: float
    step_s: float
    minimum: float
    min_labels: int
    z: float
    level: float


@dataclass(frozen=True, slots=True)
class ChangeFinding:
    """The strongest split of one scan; ``alarm`` when it passes the level and the minimum."""

    split_ts: float
    p_value: float
    adjusted_p_value: float
    n_splits: int
    n_before: int
    n_after: int
    errors_after: int
    value_after: float
    upper_after: float
    alarm: bool


def indicators(columns: JoinedColumns, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """(prediction ts, error flag) of the rows ``metric``'s errors are counted on."""
    truth, pred = columns.truth, columns.predicted
    if metric == "precision":
        rows, errors = pred, ~truth
    elif metric == "recall":
        rows, errors = truth, ~pred
    elif metric == "f1_score":
        rows, errors = truth | pred, ~(truth & pred)
    else:
        rows, errors = np.ones(len(truth), dtype=bool), truth != pred
    return columns.ts[rows], errors[rows]


def scan(columns: JoinedColumns, metric: str, cfg: ChangeScan) -> ChangeFinding | None:
    """The best split of the window for ``metric`` (None when no split has enough rows after it).

    >>> ts = np.arange(200.0)
    >>> truth = np.ones(200, dtype=bool)
    >>> pred = np.where(ts < 150, np.arange(200) % 50 != 0, np.arange(200) % 2 == 0)
    >>> cols = JoinedColumns(ts, truth, pred, None, None)
    >>> f = scan(cols, "recall", ChangeScan(0.0, 200.0, 10.0, 0.85, 10, 2.326, 1e-3))
    >>> f.split_ts, f.n_after, f.errors_after, f.alarm
    (150.0, 50, 25, True)
    """
    ts, errors = indicators(columns, metric)
    inside = ts >= cfg.since
    ts, errors = ts[inside], errors[inside]
    order = np.argsort(ts, kind="stable")
    ts, errors = ts[order], errors[order]
    first = math.floor(cfg.since / cfg.step_s) + 1
    splits = np.arange(first, math.ceil(cfg.until / cfg.step_s)) * cfg.step_s
    at = np.searchsorted(ts, splits, side="left")
    n_after = len(ts) - at
    keep = (n_after >= cfg.min_labels) & (at > 0)
    if not keep.any():
        return None
    splits, at, n_after = splits[keep], at[keep], n_after[keep]
    after_errors = int(errors.sum()) - np.concatenate([[0], np.cumsum(errors)])[at]
    total, bad = len(ts), int(errors.sum())
    p_values = hypergeom.sf(after_errors - 1, total, bad, n_after)
    value, upper = _after_metric(metric, n_after - after_errors, n_after, cfg.z)
    below = upper < cfg.minimum
    # the strongest split among those that show the metric below the minimum, if any
    best = (
        int(np.argmin(np.where(below, p_values, np.inf)))
        if below.any()
        else int(np.argmin(p_values))
    )
    adjusted = min(1.0, float(p_values[best]) * len(splits))
    return ChangeFinding(
        split_ts=float(splits[best]),
        p_value=float(p_values[best]),
        adjusted_p_value=adjusted,
        n_splits=len(splits),
        n_before=int(at[best]),
        n_after=int(n_after[best]),
        errors_after=int(after_errors[best]),
        value_after=float(value[best]),
        upper_after=float(upper[best]),
        alarm=adjusted < cfg.level and bool(below[best]),
    )


def _after_metric(
    metric: str, good: np.ndarray, n: np.ndarray, z: float
) -> tuple[np.ndarray, np.ndarray]:
    """The metric after each split and its upper Wilson bound (vectorised ``wilson``)."""
    p = good / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    upper = np.minimum(1.0, centre + half)
    if metric == "f1_score":  # q = tp / (tp + fp + fn) -> f1 = 2q / (1 + q)
        return 2 * p / (1 + p), 2 * upper / (1 + upper)
    return p, upper
