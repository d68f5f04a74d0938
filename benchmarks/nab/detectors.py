"""The detectors the NAB benchmark compares, each scoring one series strictly online."""

from __future__ import annotations

import math
from collections.abc import Callable

from benchmarks.nab.corpus import DataFile
from engine.detect.metric import score_series

SeriesScores = list[float | None]
Detector = Callable[[DataFile], SeriesScores]


def vigil(data: DataFile) -> SeriesScores:
    """Vigil's metric detector: the very code the pipeline's metric operator runs per series."""
    return score_series(data.ts_s, data.values)


def half_space_trees(data: DataFile) -> SeriesScores:
    """river's HalfSpaceTrees behind a min-max scaler (score each point, then learn it)."""
    from river import anomaly, compose, preprocessing

    model = compose.Pipeline(preprocessing.MinMaxScaler(), anomaly.HalfSpaceTrees(seed=42))
    out: SeriesScores = []
    for value in data.values:
        x = {"value": value}
        out.append(model.score_one(x))
        model.learn_one(x)
    return out


def ewma_z(data: DataFile, alpha: float = 0.01) -> SeriesScores:
    """The plain baseline: ``|x - mean| / std`` of an EWMA mean and variance (weight
    ``alpha``), each point scored before it is learned; ``None`` for the first 2 points."""
    mean, var = 0.0, 0.0
    out: SeriesScores = []
    for i, x in enumerate(data.values):
        if i == 0:
            mean = x
            out.append(None)
            continue
        d = x - mean
        out.append(abs(d) / math.sqrt(var) if var > 0.0 else (None if i < 2 else 0.0))
        mean += alpha * d
        var = (1.0 - alpha) * (var + alpha * d * d)
    return out


DETECTORS: dict[str, Detector] = {"vigil": vigil, "ewma": ewma_z,
                                  "halfspacetrees": half_space_trees}
