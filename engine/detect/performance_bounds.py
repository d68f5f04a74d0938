"""Confidence bounds and effective sample sizes of the model-performance metrics.

A metric alarms only when the bound on the side of the user's limit is past it (the upper
bound below a ``minimum``, the lower bound above a ``maximum``) and its effective sample is at
least ``min_effective_labels``; with a smaller sample its status is ``insufficient_labels``.
Bounds are one-sided at ``confidence`` (``z = Phi^-1(confidence)``):

* precision, recall, accuracy: Wilson score bound of ``k`` successes in ``n`` (precision:
  ``tp`` of the ``tp + fp`` predicted positives; recall: ``tp`` of the ``tp + fn`` actual
  positives; accuracy: right answers of all rows);
* f1: ``f1 = 2q / (1 + q)`` with ``q = tp / (tp + fp + fn)``, so the Wilson bound of ``q`` maps
  to a bound of f1 (f1 is increasing in q); the effective sample is the smaller of the predicted
  and the actual positives;
* roc_auc: Hanley–McNeil standard error, effective sample the smaller class;
* mae, rmse (``maximum``): normal bound of the mean absolute / squared error (rmse is the square
  root of the bound of the mean squared error), effective sample every row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np
from scipy.stats import norm


class MetricStatus(Enum):
    """What one check says about one metric."""

    OK = "ok"
    BREACH = "breach"
    INSUFFICIENT_LABELS = "insufficient_labels"


@dataclass(frozen=True, slots=True)
class Counts:
    """The confusion matrix of a set of rows (floats: estimates use expected counts)."""

    tp: float
    fp: float
    fn: float
    tn: float


@dataclass(frozen=True, slots=True)
class Bounded:
    """A metric's value with its one-sided confidence interval and effective sample."""

    value: float
    lower: float
    upper: float
    n_effective: float


def z_of(confidence: float) -> float:
    """The one-sided normal quantile: ``z_of(0.99)`` is about 2.326."""
    return float(norm.ppf(confidence))


def wilson(k: float, n: float, z: float) -> tuple[float, float]:
    """Wilson score interval of a proportion ``k / n`` (each side at quantile ``z``).

    >>> [round(b, 4) for b in wilson(7, 10, 1.96)]
    [0.3968, 0.8922]
    >>> wilson(0, 0, 1.96)
    (0.0, 1.0)
    """
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def bound_classification(name: str, c: Counts, z: float) -> Bounded | None:
    """The bounded value of precision, recall, accuracy or f1_score (None for other names).

    >>> b = bound_classification("precision", Counts(tp=10, fp=3, fn=0, tn=100), 2.326)
    >>> round(b.value, 3), round(b.upper, 3), b.n_effective
    (0.769, 0.932, 13)
    """
    if name == "precision":
        k, n, n_eff = c.tp, c.tp + c.fp, c.tp + c.fp
    elif name == "recall":
        k, n, n_eff = c.tp, c.tp + c.fn, c.tp + c.fn
    elif name == "accuracy":
        n = c.tp + c.fp + c.fn + c.tn
        k, n_eff = c.tp + c.tn, n
    elif name == "f1_score":
        k, n = c.tp, c.tp + c.fp + c.fn
        lo, hi = wilson(k, n, z)
        value = 2 * k / (n + k) if n else 0.0
        return Bounded(value, 2 * lo / (1 + lo), 2 * hi / (1 + hi), min(c.tp + c.fp, c.tp + c.fn))
    else:
        return None
    lo, hi = wilson(k, n, z)
    return Bounded(k / n if n else 0.0, lo, hi, n_eff)


def bound_auc(auc: float, n_pos: int, n_neg: int, z: float) -> Bounded:
    """ROC AUC with the Hanley–McNeil (1982) standard error.

    >>> b = bound_auc(0.9, 50, 500, 2.326)
    >>> round(b.lower, 3), round(b.upper, 3), b.n_effective
    (0.831, 0.969, 50)
    """
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (
        max(n_pos * n_neg, 1)
    )
    half = z * math.sqrt(max(var, 0.0))
    return Bounded(auc, max(0.0, auc - half), min(1.0, auc + half), min(n_pos, n_neg))


def bound_errors(name: str, errors: np.ndarray, z: float) -> Bounded | None:
    """MAE or RMSE of ``errors`` (prediction - label) with a normal bound of the mean.

    >>> b = bound_errors("mae", np.array([1.0, -1.0, 2.0, 0.0]), 1.645)
    >>> b.value, round(b.lower, 3), round(b.upper, 3)
    (1.0, 0.328, 1.672)
    """
    n = len(errors)
    if n == 0 or name not in ("mae", "rmse"):
        return None
    terms = np.abs(errors) if name == "mae" else errors * errors
    mean = float(terms.mean())
    half = z * float(terms.std(ddof=1)) / math.sqrt(n) if n > 1 else math.inf
    lo, hi = max(0.0, mean - half), mean + half
    if name == "rmse":
        return Bounded(math.sqrt(mean), math.sqrt(lo), math.sqrt(hi), n)
    return Bounded(mean, lo, hi, n)


def status_of(
    bounded: Bounded, minimum: float | None, maximum: float | None, min_effective: int
) -> MetricStatus:
    """``breach`` only when the whole confidence side is past the limit, with enough labels.

    >>> few, many = Bounded(0.75, 0.5, 0.9, n_effective=4), Bounded(0.5, 0.3, 0.7, n_effective=40)
    >>> status_of(few, 0.85, None, 30).value, status_of(many, 0.85, None, 30).value
    ('insufficient_labels', 'breach')
    """
    if bounded.n_effective < min_effective:
        return MetricStatus.INSUFFICIENT_LABELS
    if minimum is not None and bounded.upper < minimum:
        return MetricStatus.BREACH
    if maximum is not None and bounded.lower > maximum:
        return MetricStatus.BREACH
    return MetricStatus.OK
