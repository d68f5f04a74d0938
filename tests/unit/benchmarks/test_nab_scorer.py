"""The NAB scorer: null = 0, perfect = 100, and a small case computed by hand."""

from __future__ import annotations

import math

import pytest

from benchmarks.nab.scorer import (
    LabelledFile,
    Profile,
    optimise,
    probation_rows,
    scaled_sigmoid,
)

STANDARD = Profile("standard", 1.0, 1.0, 0.11)
LOW_FN = Profile("reward_low_FN_rate", 1.0, 2.0, 0.11)

# 100 rows -> 15 probationary rows; windows at rows 40..49 and 70..79.
FILE = LabelledFile("cat/a.csv", 100, ((40, 49), (70, 79)))
EMPTY = LabelledFile("cat/b.csv", 60, ())


def _scores(rows: int, hits: dict[int, float]) -> list[float | None]:
    return [hits.get(i, 0.0) for i in range(rows)]


def test_probation_is_15_percent_capped_at_750() -> None:
    assert probation_rows(100) == 15
    assert probation_rows(10_000) == 750


def test_null_detector_scores_zero() -> None:
    result = optimise([FILE, EMPTY], {FILE.name: _scores(100, {}), EMPTY.name: [None] * 60},
                      STANDARD)
    assert result.score == 0.0
    assert (result.tp, result.fp, result.fn) == (0, 0, 2)


@pytest.mark.parametrize("profile", [STANDARD, LOW_FN])
def test_perfect_detector_scores_hundred(profile: Profile) -> None:
    scores = {FILE.name: _scores(100, {40: 1.0, 70: 1.0}), EMPTY.name: _scores(60, {})}
    result = optimise([FILE, EMPTY], scores, profile)
    assert result.score == pytest.approx(100.0)
    assert (result.tp, result.fp, result.fn) == (2, 0, 0)


def test_detections_in_probation_are_ignored() -> None:
    result = optimise([FILE], {FILE.name: _scores(100, {3: 1.0, 40: 1.0})}, STANDARD)
    assert result.fp == 0


def test_hand_computed_case() -> None:
    # Detections: row 20 (before any window: -0.11), row 45 (window 1 at position -5/10),
    # row 47 (same window, ignored), row 59 (10 rows after window 1 of width 10: 0.11 *
    # sigma(10/9)); window 2 missed (-1).
    scores = {FILE.name: _scores(100, {20: 0.9, 45: 0.9, 47: 0.9, 59: 0.9})}
    result = optimise([FILE], scores, STANDARD)
    sigma = lambda y: 2 / (1 + math.exp(5 * y)) - 1  # noqa: E731
    raw = -0.11 + sigma(-0.5) + 0.11 * sigma(10 / 9) - 1.0
    null, perfect = -2.0, 2 * sigma(-1.0)
    # Detecting is better than the null detector here, so the threshold is 0.9.
    assert result.threshold == 0.9
    assert result.raw == pytest.approx(raw)
    assert result.score == pytest.approx(100 * (raw - null) / (perfect - null))
    assert (result.tp, result.fp, result.fn) == (1, 2, 1)


def test_threshold_excludes_low_scored_false_positives() -> None:
    # A lower-scored FP should be left out: the best threshold is the TP's score.
    scores = {FILE.name: _scores(100, {40: 0.8, 70: 0.8, 20: 0.3})}
    result = optimise([FILE], scores, STANDARD)
    assert result.threshold == 0.8
    assert result.fp == 0
    assert scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)


def test_row_count_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="rows"):
        optimise([FILE], {FILE.name: [0.0] * 99}, STANDARD)
