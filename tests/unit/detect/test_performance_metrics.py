"""Windowed performance metrics equal scikit-learn's; vectorised positivity equals the rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn import metrics as sk

from engine.detect.performance import JoinedColumns, compute_metrics, is_positive, positives


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_equal_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 500
    truth = (rng.random(n) < 0.3).astype(int)
    scores = np.clip(0.35 * truth + rng.random(n) * 0.7, 0.0, 1.0).round(2)  # ties on purpose
    pred = (scores >= 0.5).astype(int)
    rows = [
        (float(i), int(t), int(p), float(s))
        for i, (t, p, s) in enumerate(zip(truth, pred, scores, strict=True))
    ]
    got = compute_metrics(rows, 1)
    assert got["precision"] == pytest.approx(sk.precision_score(truth, pred))
    assert got["recall"] == pytest.approx(sk.recall_score(truth, pred))
    assert got["f1_score"] == pytest.approx(sk.f1_score(truth, pred))
    assert got["accuracy"] == pytest.approx(sk.accuracy_score(truth, pred))
    assert got["roc_auc"] == pytest.approx(sk.roc_auc_score(truth, scores))
    assert got["mae"] == pytest.approx(sk.mean_absolute_error(truth, pred))
    assert got["rmse"] == pytest.approx(math.sqrt(sk.mean_squared_error(truth, pred)))


def test_window_keeps_only_rows_predicted_since() -> None:
    rows = [(0.0, 1, 0, None), (10.0, 1, 1, None), (20.0, 0, 0, None)]
    n, got = JoinedColumns.of(rows, 1).metrics_since(10.0)
    assert n == 2
    assert got == compute_metrics(rows[1:], 1)
    assert "roc_auc" not in got  # no scores


values = st.one_of(
    st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 1.0, 0.5, 0.49, 2.0, 2.5]),
    st.sampled_from(["1", "0", "yes", "fraud", "01"]),
)


@given(st.lists(values, max_size=30), st.sampled_from([1, 0, "1", "fraud", "01", 2]))
def test_vectorised_positives_equal_is_positive(column: list, positive: int | str) -> None:
    expected = [is_positive(v, positive) for v in column]
    assert positives(column, positive).tolist() == expected
