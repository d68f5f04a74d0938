"""Metric anomaly detection operator (placeholder while developing)."""

from __future__ import annotations

from collections.abc import Sequence

from engine.detect.baseline import SeriesConfig, SeriesModel


def score_series(ts_s: Sequence[float], values: Sequence[float],
                 cfg: SeriesConfig | None = None) -> list[float | None]:
    model = SeriesModel(cfg or SeriesConfig())
    step = model.step
    return [step(t, v) for t, v in zip(ts_s, values, strict=True)]
