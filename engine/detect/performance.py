"""Windowed model performance on joined labels, and an estimate before labels arrive.

Classification: a label or prediction is positive when it equals ``positive_label`` (compared
as strings); a float prediction strictly between 0 and 1 is positive when >= 0.5. precision,
recall, f1 and accuracy as scikit-learn defines them for the positive class (0 when undefined);
ROC AUC from the scores by the Mann–Whitney rank formula (None without both classes or scores).
Regression: MAE and RMSE of numeric labels and predictions.

Estimate (confidence-based, as NannyML's CBPE): with calibrated scores ``s = P(y = 1)``, a
predicted positive is a true positive with probability ``s``, a predicted negative a false
negative with probability ``s``; the expected confusion matrix gives expected precision, recall,
f1 and accuracy. It is only as good as the calibration, and results carry ``estimate: True``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

Row = tuple[float, float | int | str, float | int | str, float | None]
CLASSIFICATION = ("precision", "recall", "f1_score", "accuracy")


def is_positive(value: float | int | str, positive: int | str) -> bool:
    if isinstance(value, float) and 0.0 < value < 1.0:
        return value >= 0.5
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value) == str(positive)


def confusion_scores(tp: float, fp: float, fn: float, tn: float) -> dict[str, float]:
    """precision, recall, f1_score, accuracy of a (possibly expected) confusion matrix.

    >>> {k: round(v, 4) for k, v in confusion_scores(8, 2, 4, 86).items()}
    {'precision': 0.8, 'recall': 0.6667, 'f1_score': 0.7273, 'accuracy': 0.94}
    """
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    total = tp + fp + fn + tn
    return {
        "precision": precision,
        "recall": recall,
        "f1_score": f1,
        "accuracy": (tp + tn) / total if total else 0.0,
    }


def roc_auc(truth: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve (ties count half); None without both classes.

    >>> roc_auc(np.array([0, 0, 1, 1], dtype=bool), np.array([0.1, 0.4, 0.35, 0.8]))
    0.75
    """
    n_pos = int(truth.sum())
    n_neg = len(truth) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = rankdata(scores)
    return float((ranks[truth].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def positives(values: Sequence[float | int | str], positive: int | str) -> np.ndarray:
    """``is_positive`` of every value, vectorised for int and float columns.

    >>> positives([1, 0, 1], 1).tolist(), positives([0.2, 0.7, 1.0, 0.0], 1).tolist()
    ([True, False, True], [False, True, True, False])
    """
    kinds = set(map(type, values))
    target = _int_of(positive)
    try:
        if kinds == {int}:
            ints = np.array(values, dtype=np.int64)
            return ints == target if target is not None else np.zeros(len(ints), dtype=bool)
        if kinds <= {int, float}:
            return _float_positives(np.array(values, dtype=np.float64), values, positive, target)
    except OverflowError:
        pass
    return np.fromiter((is_positive(v, positive) for v in values), dtype=bool, count=len(values))


def _float_positives(
    arr: np.ndarray, values: Sequence[float | int | str], positive: int | str, target: int | None
) -> np.ndarray:
    fraction = (arr > 0.0) & (arr < 1.0)
    whole = ~fraction & (np.floor(arr) == arr)
    out = fraction & (arr >= 0.5)
    if target is not None:
        out |= whole & (arr == target)
    for i in np.flatnonzero(~fraction & ~whole).tolist():  # rare: 2.5, nan, inf
        out[i] = is_positive(values[i], positive)
    return out


def _int_of(positive: int | str) -> int | None:
    """The int whose ``str`` equals ``str(positive)``, if any."""
    text = str(positive)
    try:
        value = int(text)
    except ValueError:
        return None
    return value if str(value) == text else None


@dataclass(frozen=True, slots=True)
class JoinedColumns:
    """Joined rows as columns, computed once per check; ``metrics_since`` filters by time."""

    ts: np.ndarray
    truth: np.ndarray
    predicted: np.ndarray
    scores: np.ndarray | None
    errors: np.ndarray | None
    """prediction - label, when both columns are all numbers (regression)."""

    @classmethod
    def of(cls, rows: Sequence[Row], positive: int | str) -> JoinedColumns:
        if not rows:
            empty = np.zeros(0)
            return cls(empty, empty.astype(bool), empty.astype(bool), None, None)
        labels, preds = [r[1] for r in rows], [r[2] for r in rows]
        scores = [r[3] for r in rows]
        errors = None
        if set(map(type, labels)) <= {int, float} and set(map(type, preds)) <= {int, float}:
            errors = np.array(preds, dtype=np.float64) - np.array(labels, dtype=np.float64)
        return cls(
            np.fromiter((r[0] for r in rows), dtype=np.float64, count=len(rows)),
            positives(labels, positive),
            positives(preds, positive),
            None if None in scores else np.array(scores, dtype=np.float64),
            errors,
        )

    def since(self, since: float) -> JoinedColumns:
        """The rows predicted at or after ``since``."""
        mask = self.ts >= since
        return JoinedColumns(
            self.ts[mask],
            self.truth[mask],
            self.predicted[mask],
            None if self.scores is None else self.scores[mask],
            None if self.errors is None else self.errors[mask],
        )

    def metrics_since(self, since: float, auc: bool = True) -> tuple[int, dict[str, float]]:
        """The number of rows predicted at or after ``since``, and ``compute_metrics`` of them
        (without ROC AUC, the costly one, unless ``auc``)."""
        mask = self.ts >= since
        n = int(mask.sum())
        truth, pred = self.truth[mask], self.predicted[mask]
        tp = float(np.sum(truth & pred))
        fp = float(np.sum(~truth & pred))
        fn = float(np.sum(truth & ~pred))
        out = confusion_scores(tp, fp, fn, n - tp - fp - fn)
        if auc and n and self.scores is not None:
            area = roc_auc(truth, self.scores[mask])
            if area is not None:
                out["roc_auc"] = area
        if n and self.errors is not None:
            err = self.errors[mask]
            out["mae"] = float(np.mean(np.abs(err)))
            out["rmse"] = math.sqrt(float(np.mean(err * err)))
        return n, out


def compute_metrics(rows: Sequence[Row], positive: int | str) -> dict[str, float]:
    """Every metric the rows support: classification always, AUC with scores, MAE/RMSE when
    labels and predictions are numbers.

    >>> rows = [(0.0, 1, 1, 0.9), (1.0, 0, 1, 0.6), (2.0, 1, 0, 0.4), (3.0, 0, 0, 0.1)]
    >>> sorted((k, round(v, 3)) for k, v in compute_metrics(rows, 1).items())[:4]
    [('accuracy', 0.5), ('f1_score', 0.5), ('mae', 0.5), ('precision', 0.5)]
    >>> sorted((k, round(v, 3)) for k, v in compute_metrics(rows, 1).items())[4:]
    [('recall', 0.5), ('rmse', 0.707), ('roc_auc', 0.75)]
    """
    return JoinedColumns.of(rows, positive).metrics_since(-math.inf)[1]


def estimate_metrics(
    predicted: Sequence[bool] | np.ndarray, scores: Sequence[float] | np.ndarray
) -> dict[str, float]:
    """Expected precision/recall/f1/accuracy from calibrated scores (no labels needed).

    >>> estimate_metrics([True, True, False, False], [0.9, 0.7, 0.2, 0.1])["precision"]
    0.8
    """
    p = np.asarray(predicted, dtype=bool)
    s = np.clip(np.asarray(scores, dtype=np.float64), 0.0, 1.0)
    tp, fp = float(s[p].sum()), float((1 - s[p]).sum())
    fn, tn = float(s[~p].sum()), float((1 - s[~p]).sum())
    return confusion_scores(tp, fp, fn, tn)
