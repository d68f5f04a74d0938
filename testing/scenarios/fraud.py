"""A fraud model's prediction stream with late, partial labels, rare positives and shifts.

Ground truth ``y ~ Bernoulli(positive_rate)``. The model flags a fraud (``prediction = 1``) with
probability ``recall``, and a legitimate transaction with the false-positive rate that makes its
precision ``precision``; from ``concept_shift_day`` on, legitimate transactions are flagged at the
rate that makes the precision ``precision_after`` (the relation between features and label
changed; the scores do not show it). Scores are calibrated before any shift: Beta-distributed
around the precision for flags, around the false-omission rate otherwise. Features:
``transaction_amount`` ~ N(80 + 60 y, 25), shifted by ``mean_shift`` from ``mean_shift_day`` on
(a covariate shift the model tolerates: precision unchanged), and ``user_age_days`` ~ Exp(400).
A fraction ``label_fraction`` of predictions get a label, ``delay_days`` (uniform in the range)
after the prediction; with ``delay_days_late`` the range moves to that one for predictions from
``delay_change_day`` on (label delay changing over time). Days are event-time days from
``start``; the stream is returned in arrival order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.events import GroundTruth, Prediction

DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class FraudStream:
    """Knobs of one stream (defaults: the stream of issue 18)."""

    days: float = 16.0
    rate_per_min: float = 2.0
    positive_rate: float = 0.03
    recall: float = 0.9
    precision: float = 0.98
    precision_after: float = 0.55
    concept_shift_day: float | None = 8.0
    mean_shift: float = 20.0
    mean_shift_day: float | None = 5.0
    label_fraction: float = 0.8
    delay_days: tuple[float, float] = (1.0, 3.0)
    delay_days_late: tuple[float, float] | None = None
    delay_change_day: float = 8.0
    model: str = "fraud-detector"
    start: float = 0.0


def false_positive_rate(stream: FraudStream, precision: float) -> float:
    """P(flag | legitimate) that gives ``precision`` at the stream's positive rate and recall."""
    tp = stream.positive_rate * stream.recall
    return tp * (1.0 - precision) / precision / (1.0 - stream.positive_rate)


def generate_fraud_stream(stream: FraudStream, seed: int) -> list[Prediction | GroundTruth]:
    """Predictions and their labels, ordered by arrival time (labels arrive late)."""
    rng = np.random.default_rng(seed)
    n = int(stream.days * 1440 * stream.rate_per_min)
    offset = np.arange(n) * (60.0 / stream.rate_per_min)
    day = offset / DAY_S
    y = rng.random(n) < stream.positive_rate
    shifted = _after(day, stream.concept_shift_day)
    fpr = np.where(
        shifted,
        false_positive_rate(stream, stream.precision_after),
        false_positive_rate(stream, stream.precision),
    )
    flag = np.where(y, rng.random(n) < stream.recall, rng.random(n) < fpr)
    score = _scores(rng, flag, stream)
    amount = 80.0 + 60.0 * y + 25.0 * rng.standard_normal(n)
    amount += np.where(_after(day, stream.mean_shift_day), stream.mean_shift, 0.0)
    age = rng.exponential(400.0, n)
    ts = stream.start + offset
    events: list[Prediction | GroundTruth] = []
    for i in range(n):
        features = {"transaction_amount": float(amount[i]), "user_age_days": float(age[i])}
        events.append(
            Prediction(float(ts[i]), stream.model, f"p{i}", features, int(flag[i]), float(score[i]))
        )
    events += _labels(rng, stream, ts, day, y)
    events.sort(key=lambda e: e.ts)
    return events


def _after(day: np.ndarray, at: float | None) -> np.ndarray:
    return day >= at if at is not None else np.zeros(len(day), dtype=bool)


def _scores(rng: np.random.Generator, flag: np.ndarray, stream: FraudStream) -> np.ndarray:
    """Calibrated before the concept shift: mean ``precision`` for flags, else the share of
    frauds among the unflagged."""
    miss = stream.positive_rate * (1 - stream.recall)
    negatives = (1 - stream.positive_rate) * (1 - false_positive_rate(stream, stream.precision))
    omission = miss / (miss + negatives)
    strength = 50.0
    high = rng.beta(strength * stream.precision, strength * (1 - stream.precision), len(flag))
    low = rng.beta(strength * omission, strength * (1 - omission), len(flag))
    return np.where(flag, high, low)


def _labels(
    rng: np.random.Generator, stream: FraudStream, ts: np.ndarray, day: np.ndarray, y: np.ndarray
) -> list[GroundTruth]:
    n = len(ts)
    lo, hi = np.full(n, stream.delay_days[0]), np.full(n, stream.delay_days[1])
    if stream.delay_days_late is not None:
        late = day >= stream.delay_change_day
        lo[late], hi[late] = stream.delay_days_late
    delay = (lo + (hi - lo) * rng.random(n)) * DAY_S
    labelled = rng.random(n) < stream.label_fraction
    return [
        GroundTruth(float(ts[i] + delay[i]), stream.model, f"p{i}", int(y[i]))
        for i in np.flatnonzero(labelled).tolist()
    ]
