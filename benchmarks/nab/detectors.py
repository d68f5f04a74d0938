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


WEEK_S = 7 * 86_400.0


def weekly_naive_z(data: DataFile, alpha: float = 0.01) -> SeriesScores:
    """A reference, not a baseline of the corpora: the log ratio of a point to the value at
    the same time one week earlier, as a z-score against an EWMA (weight ``alpha``) of that
    ratio's square, scored before it is learned; ``None`` where there is no positive value a
    week earlier (the first week, gaps, values <= 0). What a detector that knows the weekly
    cycle and a level-scaled noise can find (``benchmarks.nab.synthetic``)."""
    seen: dict[float, float] = {}
    var, learnt = 0.0, 0
    out: SeriesScores = []
    for t, x in zip(data.ts_s, data.values, strict=True):
        if x > 0.0:
            seen[t] = math.log(x)
        before = seen.get(t - WEEK_S)
        if before is None or x <= 0.0:
            out.append(None)
            continue
        d = math.log(x) - before
        out.append(None if learnt < 2 else (abs(d) / math.sqrt(var) if var > 0.0 else 0.0))
        var = d * d if learnt == 0 else (1.0 - alpha) * (var + alpha * d * d)
        learnt += 1
    return out


DETECTORS: dict[str, Detector] = {"vigil": vigil, "ewma": ewma_z,
                                  "halfspacetrees": half_space_trees}
REFERENCES: dict[str, Detector] = {"weekly_naive": weekly_naive_z}
"""Opt-in references for ``benchmarks.nab.synthetic --only`` (not run on the corpora)."""
