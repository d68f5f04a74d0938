"""The detectors the NAB benchmark compares, each scoring one series strictly online."""

from __future__ import annotations

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


DETECTORS: dict[str, Detector] = {"vigil": vigil, "halfspacetrees": half_space_trees}
