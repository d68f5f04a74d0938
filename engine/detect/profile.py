"""Reference profiles: what a model's inputs and outputs looked like when it was trained.

A profile holds, per numeric feature, a uniform sample (at most ``max_samples`` values, sorted)
plus its percentiles for humans; per categorical feature, the category counts; and the
prediction distribution (a sample of scores/numeric predictions, or class counts) when known.
``vigil reference build`` writes one as JSON; the first N predictions of a model become one when
no stored profile exists. A value is numeric when every non-missing value of its column is an
int or float (not bool); otherwise the column is categorical and values are compared as strings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.detect.reservoir import reservoir_add, stream_seed
from engine.vocabulary import JsonDict

Value = float | int | str | bool | None


@dataclass(frozen=True, slots=True, eq=False)
class ReferenceProfile:
    """Training-time distributions of one model; ``prediction`` is None when not known."""

    model: str
    numeric: Mapping[str, np.ndarray] = field(default_factory=dict)
    categorical: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    prediction: np.ndarray | Mapping[str, int] | None = None
    rows: int = 0

    def to_dict(self) -> JsonDict:
        pred: Any = None
        if isinstance(self.prediction, np.ndarray):
            pred = {"sample": self.prediction.tolist()}
        elif self.prediction is not None:
            pred = {"counts": dict(self.prediction)}
        return {
            "version": 1,
            "model": self.model,
            "rows": self.rows,
            "numeric": {
                k: {"sample": v.tolist(), "percentiles": _percentiles(v)}
                for k, v in self.numeric.items()
            },
            "categorical": {k: {"counts": dict(v)} for k, v in self.categorical.items()},
            "prediction": pred,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReferenceProfile:
        pred = data.get("prediction")
        prediction: np.ndarray | dict[str, int] | None = None
        if pred and "sample" in pred:
            prediction = np.asarray(pred["sample"], dtype=np.float64)
        elif pred:
            prediction = {str(k): int(v) for k, v in pred["counts"].items()}
        return cls(
            model=str(data["model"]),
            numeric={
                k: np.asarray(v["sample"], dtype=np.float64) for k, v in data["numeric"].items()
            },
            categorical={
                k: {str(c): int(n) for c, n in v["counts"].items()}
                for k, v in data["categorical"].items()
            },
            prediction=prediction,
            rows=int(data.get("rows", 0)),
        )


def _percentiles(sample: np.ndarray) -> list[float]:
    if len(sample) == 0:
        return []
    return [float(q) for q in np.percentile(sample, np.arange(0, 101, 5))]


def is_numeric(values: Sequence[Value]) -> bool:
    """True when every non-missing value is an int or float (bools are categorical)."""
    present = [v for v in values if v is not None]
    return bool(present) and all(type(v) in (int, float) for v in present)


def summarize_column(
    values: Sequence[Value], max_samples: int, seed: int
) -> np.ndarray | dict[str, int]:
    """A sorted uniform sample of a numeric column, or the counts of a categorical one."""
    if is_numeric(values):
        arr = np.asarray([v for v in values if v is not None], dtype=np.float64)
        arr = arr[np.isfinite(arr)]
        return np.sort(reservoir_add(np.empty(0), 0, arr, max_samples, seed))
    counts = Counter(str(v) for v in values if v is not None)
    return dict(sorted(counts.items()))


def build_profile(
    model: str,
    columns: Mapping[str, Sequence[Value]],
    predictions: Sequence[Value] | None = None,
    *,
    max_samples: int = 10_000,
    seed: int = 0,
) -> ReferenceProfile:
    """Profile of training data given as columns (feature name -> values, one per row).

    Examples
    --------
    >>> p = build_profile("m", {"amount": [1.0, 2.0, 3.0], "kind": ["a", "b", "a"]}, [0, 1, 1])
    >>> p.numeric["amount"].tolist(), dict(p.categorical["kind"]), p.prediction.tolist()
    ([1.0, 2.0, 3.0], {'a': 2, 'b': 1}, [0.0, 1.0, 1.0])
    """
    numeric: dict[str, np.ndarray] = {}
    categorical: dict[str, dict[str, int]] = {}
    for name, values in columns.items():
        summary = summarize_column(values, max_samples, stream_seed(seed, model, name))
        if isinstance(summary, np.ndarray):
            numeric[name] = summary
        else:
            categorical[name] = summary
    prediction = None
    if predictions is not None and len(predictions):
        prediction = summarize_column(predictions, max_samples, stream_seed(seed, model, "pred"))
    rows = max((len(v) for v in columns.values()), default=len(predictions or ()))
    return ReferenceProfile(model, numeric, categorical, prediction, rows)
