"""The multi-corpus benchmark's pieces: the EWMA z-score baseline, the corpus conversion and the
clean-data report count."""

from __future__ import annotations

import json
import random

import numpy as np

from benchmarks.nab.convert import rolled_up, windows_by_dim
from benchmarks.nab.corpora import false_reports
from benchmarks.nab.corpus import DataFile
from benchmarks.nab.detectors import ewma_z
from benchmarks.nab.scorer import LabelledFile


def _file(values: list[float], windows: tuple[tuple[int, int], ...] = ()) -> DataFile:
    n = len(values)
    return DataFile("c/f.csv", [""] * n, [300.0 * i for i in range(n)], values,
                    LabelledFile("c/f.csv", n, windows))


def test_the_ewma_z_score_scores_a_spike_before_learning_it() -> None:
    rng = random.Random(1)
    values = [10.0 + rng.gauss(0.0, 1.0) for _ in range(1000)]
    values[900] = 30.0
    scores = ewma_z(_file(values))
    assert scores[0] is None
    assert scores[900] is not None
    assert scores[900] > 10.0
    assert max(s or 0.0 for s in scores[300:900]) < 5.0


def test_anomalies_become_per_metric_windows_rolled_up_with_the_rows() -> None:
    assert windows_by_dim("3-4:1\n10-14:1,3\n12-20:3\n") == {0: [(3, 4), (10, 14)],
                                                            2: [(10, 20)]}
    assert windows_by_dim("10-14:2\n", 5) == {1: [(2, 2)]}
    rows = np.arange(12.0).reshape(6, 2)
    assert rolled_up(rows, 3).tolist() == [[2.0, 3.0], [8.0, 9.0]]


def test_false_reports_count_only_clean_rows_after_probation_per_series_day() -> None:
    data = _file([0.0] * 1000, ((500, 509),))
    scores: list[float | None] = [0.0] * 1000
    for i in (10, 505, 700, 800):  # 10 is in probation, 505 inside the window
        scores[i] = 0.9
    reports, days = false_reports([data], {data.name: scores}, 0.37)
    assert reports == 2
    assert abs(days - (1000 - 150 - 10) * 300.0 / 86_400.0) < 1e-9


def test_a_fixed_threshold_scores_as_the_optimiser_does_at_that_threshold() -> None:
    from benchmarks.nab.corpora import at_threshold
    from benchmarks.nab.scorer import Profile, optimise

    standard = Profile("standard", 1.0, 1.0, 0.11)
    data = _file([0.0] * 1000, ((500, 519), (800, 819)))
    scores: list[float | None] = [0.1] * 1000
    scores[505] = scores[600] = scores[506] = 0.8
    best = optimise([data.labels], {data.name: scores}, standard)
    assert best.threshold == 0.8
    assert at_threshold([data.labels], {data.name: scores}, standard, 0.8) == best.score


def test_hourly_rollup_sums_counts_fills_gaps_and_maps_windows_to_hours(tmp_path) -> None:
    from benchmarks.nab.corpus import load_corpus
    from benchmarks.nab.hourly import write_hourly

    src = tmp_path / "src"
    (src / "data" / "c").mkdir(parents=True)
    (src / "labels").mkdir()
    stamps, lines = [], ["timestamp,value"]
    for i in range(12 * 150 + 6):  # 5-min counts from 00:30: the first hour is partial
        if 12 * 40 <= i < 12 * 40 + 6:
            continue  # a 30-min gap inside hour 40
        t = 1800 + 300 * i
        stamps.append(t)
        lines.append(f"{_iso(t)},2")
    (src / "data" / "c" / "f.csv").write_text("\n".join(lines) + "\n")
    (src / "labels" / "combined_windows.json").write_text(
        json.dumps({"c/f.csv": [[_iso(1800 + 300 * 1205), _iso(1800 + 300 * 1210)]]}))
    (src / "config").mkdir()
    (src / "config" / "profiles.json").write_text("{}")
    assert write_hourly(src, tmp_path / "out") == 1
    [data] = load_corpus(tmp_path / "out")
    assert data.values == [24.0] * len(data.values)  # summed; the gap's hour scaled up
    assert data.ts_s[0] == 3600.0
    assert all(t % 3600.0 == 0.0 for t in data.ts_s)
    [(a, b)] = data.labels.windows
    assert (data.ts_s[a], data.ts_s[b]) == (3600.0 * 100, 3600.0 * 101)  # the hours touched


def _iso(ts: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def test_a_window_lost_to_the_quiet_period_is_told_apart_from_warm_up_and_weak_evidence() -> None:
    from benchmarks.nab.explain import WHY_VARIANTS, why_missed
    from engine.detect.metric import score_series

    rng = random.Random(3)
    values = [50.0 + rng.gauss(0.0, 1.0) for _ in range(400)]
    values[300] += 10.0  # reported: the 5-min series is quiet for 30 points
    values[310] += 10.0  # as large, inside the quiet period
    data = _file(values, ((10, 12), (310, 312), (350, 352)))
    ours = score_series(data.ts_s, values)
    variants = {why: {data.name: score_series(data.ts_s, values, cfg)}
                for why, cfg in WHY_VARIANTS.items()}
    found = [why_missed(data, w, ours, variants, 0.37) for w in data.labels.windows]
    assert found[:2] == ["warm-up", "quiet"]
    assert found[2] in ("zero", "weak")  # plain noise: no evidence, or too little
