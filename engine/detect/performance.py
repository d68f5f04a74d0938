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


def compute_metrics(rows: Sequence[Row], positive: int | str) -> dict[str, float]:
    """Every metric the rows support: classification always, AUC with scores, MAE/RMSE when
    labels and predictions are numbers."""
    truth = np.array([is_positive(r[1], positive) for r in rows], dtype=bool)
    pred = np.array([is_positive(r[2], positive) for r in rows], dtype=bool)
    tp = float(np.sum(truth & pred))
    fp = float(np.sum(~truth & pred))
    fn = float(np.sum(truth & ~pred))
    out = confusion_scores(tp, fp, fn, len(rows) - tp - fp - fn)
    if rows and all(r[3] is not None for r in rows):
        auc = roc_auc(truth, np.array([r[3] for r in rows], dtype=np.float64))
        if auc is not None:
            out["roc_auc"] = auc
    if rows and all(_number(r[1]) and _number(r[2]) for r in rows):
        err = np.array([float(r[2]) - float(r[1]) for r in rows])  # type: ignore[arg-type]
        out["mae"] = float(np.mean(np.abs(err)))
        out["rmse"] = math.sqrt(float(np.mean(err * err)))
    return out


def estimate_metrics(predicted: Sequence[bool], scores: Sequence[float]) -> dict[str, float]:
    """Expected precision/recall/f1/accuracy from calibrated scores (no labels needed).

    >>> estimate_metrics([True, True, False, False], [0.9, 0.7, 0.2, 0.1])["precision"]
    0.8
    """
    p = np.asarray(predicted, dtype=bool)
    s = np.clip(np.asarray(scores, dtype=np.float64), 0.0, 1.0)
    tp, fp = float(s[p].sum()), float((1 - s[p]).sum())
    fn, tn = float(s[~p].sum()), float((1 - s[~p]).sum())
    return confusion_scores(tp, fp, fn, tn)


def _number(value: object) -> bool:
    return type(value) in (int, float)
