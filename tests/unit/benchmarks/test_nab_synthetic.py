"""The generated-series check compares every detector at one clean false-report rate."""

from __future__ import annotations

import pytest

from benchmarks.nab.detectors import DETECTORS, SeriesScores
from benchmarks.nab.matched import Case, compare, matched_threshold, outcome
from benchmarks.nab.synthetic import FAMILIES, rate_cases

HOUR = 3600.0


def _case(values: list[float], at: int | None = None) -> Case:
    ts = [HOUR * i for i in range(len(values))]
    return Case("k", ts, values, at, 3, 0, len(values))


def test_matched_threshold_allows_the_stated_rate_and_no_more() -> None:
    # two clean series of 10 days each (240 hourly points): 100 per 1,000 series-days is 2
    # reports over the 20 series-days
    scores: list[SeriesScores] = [[0.0] * 240, [0.0] * 240]
    scores[0][10], scores[0][20], scores[1][30], scores[1][40] = 9.0, 8.0, 7.0, 6.0
    clean = [_case([0.0] * 240), _case([0.0] * 240)]
    threshold = matched_threshold(clean, scores, 100.0)
    reports = sum([outcome(c, s, threshold).false_reports
                   for c, s in zip(clean, scores, strict=True)])
    assert reports == 2
    assert 7.0 < threshold <= 8.0  # any lower admits the third report


def test_matched_threshold_ignores_the_warm_up_and_anomalous_series() -> None:
    warm = Case("k", [HOUR * i for i in range(240)], [0.0] * 240, None, 3, 48, 240)
    anomalous = _case([0.0] * 240, at=100)
    early: SeriesScores = [50.0 if i < 48 else 1.0 for i in range(240)]
    scores: list[SeriesScores] = [early, [99.0] * 240]
    threshold = matched_threshold([warm, anomalous], scores, 0.0)
    assert threshold > 1.0
    assert threshold < 50.0


def test_a_detection_is_a_report_inside_the_window_and_others_are_false() -> None:
    case = _case([0.0] * 48, at=10)
    scores: list[float | None] = [0.0] * 48
    scores[5], scores[11], scores[12] = 1.0, 1.0, 1.0
    result = outcome(case, scores, 0.5)
    assert (result.found, result.delay, result.false_reports) == (True, 1, 1)


def test_every_family_is_scored_by_all_three_detectors(capsys: pytest.CaptureFixture[str]) -> None:
    cases = rate_cases(2, 7)
    compare("rates", cases, 0.37, 30.0)
    out = capsys.readouterr().out
    header = out.splitlines()[1]
    assert "vigil rule" in header
    for name in DETECTORS:
        assert f"{name} matched" in header
    for kind in ("none", "drop", "spike", "level_shift"):
        row = next(line for line in out.splitlines() if line.split()[:1] == [kind])
        cell = 2 if kind == "none" else 3  # detected (or -), median delay, false reports
        assert len(row.split()) == 1 + cell * (1 + len(DETECTORS))
    assert set(FAMILIES) == {"5min", "counts", "rates"}


def test_the_weekly_naive_reference_sees_an_outage_a_daily_view_calls_a_weekend() -> None:
    from benchmarks.nab.corpus import DataFile
    from benchmarks.nab.detectors import weekly_naive_z
    from benchmarks.nab.scorer import LabelledFile

    hours = 3 * 168
    weekly = [100.0 * (0.5 if (i // 24) % 7 >= 5 else 1.0) * (1.0 + 0.01 * (i % 5))
              for i in range(hours)]
    weekly[2 * 168 + 12] *= 0.3  # an outage on a weekday, two weeks in
    ts = [HOUR * i for i in range(hours)]
    scores = weekly_naive_z(DataFile("w", [], ts, weekly, LabelledFile("w", hours, ())))
    assert all(s is None for s in scores[:168])  # nothing a week earlier yet
    weekend = max(s or 0.0 for s in scores[2 * 168 + 5 * 24:2 * 168 + 7 * 24])
    assert scores[2 * 168 + 12] is not None
    assert scores[2 * 168 + 12] > 10.0 * max(weekend, 1.0)
