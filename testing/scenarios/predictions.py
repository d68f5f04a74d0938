"""Seeded synthetic prediction streams with drift injected at a known time (tests, benchmark).

Ground truth ``y ~ Bernoulli(prior)`` (prior 0.1); ``amount ~ N(2y, 1)``; further numeric
features ``num1..`` are N(0, 1) noise; categorical ``merchant``/``cat1..`` draw from five
categories with fixed weights. ``score`` is the calibrated posterior P(y=1 | amount) under the
base prior; ``prediction = score >= 0.5``. Each label arrives ``label_delay_s`` after its
prediction. Drifts from ``drift_at`` on: ``mean_shift`` (amount + 0.5), ``variance`` (amount's
noise sd x 1.5), ``new_category`` (10% of merchant values become ``"new"``), ``label_shift``
(prior 0.1 -> 0.4).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from engine.events import GroundTruth, Prediction

Drift = Literal["none", "mean_shift", "variance", "new_category", "label_shift"]
CATEGORIES = ("a", "b", "c", "d", "e")
WEIGHTS = (0.4, 0.3, 0.15, 0.1, 0.05)


def generate_predictions(
    seed: int,
    n: int,
    rate_per_s: float = 1.0,
    drift_at: float | None = None,
    drift: Drift = "mean_shift",
    n_numeric: int = 1,
    n_categorical: int = 1,
    label_delay_s: float | None = 600.0,
    start: float = 0.0,
    model: str = "fraud-detector",
    first_id: int = 0,
) -> list[Prediction | GroundTruth]:
    """``n`` predictions ``1 / rate_per_s`` apart from ``start`` (and their labels, in ts order).

    ``drift_at`` is in seconds after ``start``.
    """
    rng = np.random.default_rng(seed)
    ts = start + np.arange(n) / rate_per_s
    after = (ts - start >= drift_at) if drift_at is not None else np.zeros(n, dtype=bool)
    prior = np.where(after & (drift == "label_shift"), 0.4, 0.1)
    y = rng.random(n) < prior
    sd = np.where(after & (drift == "variance"), 1.5, 1.0)
    amount = (
        2.0 * y + sd * rng.standard_normal(n) + np.where(after & (drift == "mean_shift"), 0.5, 0)
    )
    logit = np.log(0.1 / 0.9) + 2.0 * amount - 2.0
    score = 1.0 / (1.0 + np.exp(-logit))
    columns = _numeric_columns(rng, amount, n_numeric)
    columns |= _categorical_columns(rng, after, drift, n_categorical)
    names = list(columns)
    rows = list(zip(*columns.values(), strict=True))
    events: list[Prediction | GroundTruth] = []
    for i, (t, s, row) in enumerate(zip(ts.tolist(), score.tolist(), rows, strict=True)):
        features = dict(zip(names, row, strict=True))
        events.append(Prediction(t, model, f"p{first_id + i}", features, int(s >= 0.5), s))
    if label_delay_s is not None:
        events += _labels(model, first_id, ts, y, label_delay_s)
        events.sort(key=lambda e: e.ts)
    return events


def _labels(
    model: str, first_id: int, ts: np.ndarray, y: np.ndarray, label_delay_s: float
) -> list[GroundTruth]:
    """The ground truth of each prediction, ``label_delay_s`` after it."""
    return [
        GroundTruth(float(t + label_delay_s), model, f"p{first_id + i}", int(v))
        for i, (t, v) in enumerate(zip(ts, y, strict=True))
    ]


def _numeric_columns(
    rng: np.random.Generator, amount: np.ndarray, n_numeric: int
) -> dict[str, list[object]]:
    """``amount`` and the noise features ``num1..`` as plain lists."""
    numeric = {"amount": amount}
    for i in range(1, n_numeric):
        numeric[f"num{i}"] = rng.standard_normal(len(amount))
    return {k: v.tolist() for k, v in numeric.items()}


def _categorical_columns(
    rng: np.random.Generator, after: np.ndarray, drift: Drift, n_categorical: int
) -> dict[str, list[object]]:
    """``merchant`` and ``cat1..`` as plain lists (``new`` values once a new category drifts in)."""
    n = len(after)
    categorical = {}
    for i in range(n_categorical):
        name = "merchant" if i == 0 else f"cat{i}"
        values = rng.choice(np.array(CATEGORIES), size=n, p=WEIGHTS).astype(object)
        if i == 0 and drift == "new_category":
            values[after & (rng.random(n) < 0.1)] = "new"
        categorical[name] = values
    return {k: v.tolist() for k, v in categorical.items()}
