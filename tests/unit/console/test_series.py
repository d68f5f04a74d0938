"""SeriesRecorder: bounded history per series, and windows around onset for anomalous series."""

from __future__ import annotations

import pytest

from connectors.console.series import SeriesRecorder


def _feed(rec: SeriesRecorder, key: str, start: int, stop: int) -> None:
    for ts in range(start, stop):
        rec.record_point(key, float(ts), float(ts))


def test_a_series_without_anomaly_has_no_window_and_keeps_only_recent_points() -> None:
    rec = SeriesRecorder(pre_points=4, post_points=2)
    _feed(rec, "a", 0, 10)
    assert rec.window("a") is None
    assert rec.point_count == 4


def test_window_keeps_points_before_onset_then_freezes_after_post_points() -> None:
    rec = SeriesRecorder(pre_points=3, post_points=2)
    _feed(rec, "a", 0, 5)
    rec.mark_anomaly("a", 4.0, expected=1.0, low=0.5, high=1.5)
    _feed(rec, "a", 5, 20)
    window = rec.window("a")
    assert window is not None
    assert [ts for ts, _ in window.points] == [2.0, 3.0, 4.0, 5.0, 6.0]
    assert window.onset == 4.0
    assert window.band == [(4.0, 1.0, 0.5, 1.5)]


def test_points_after_onset_already_recorded_count_towards_the_window() -> None:
    rec = SeriesRecorder(pre_points=5, post_points=2)
    _feed(rec, "a", 0, 5)  # the batch held points after the anomalous one
    rec.mark_anomaly("a", 2.0)
    _feed(rec, "a", 5, 9)
    window = rec.window("a")
    assert window is not None
    assert [ts for ts, _ in window.points] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_least_recently_updated_series_is_dropped_first() -> None:
    rec = SeriesRecorder(pre_points=2, post_points=2, max_series=2)
    rec.record_point("a", 0.0, 1.0)
    rec.record_point("b", 0.0, 1.0)
    rec.record_point("a", 1.0, 1.0)
    rec.record_point("c", 1.0, 1.0)  # "b" is the stalest
    rec.mark_anomaly("a", 2.0)
    rec.mark_anomaly("b", 2.0)
    assert [ts for ts, _ in rec.window("a").points] == [0.0, 1.0]  # type: ignore[union-attr]
    assert list(rec.window("b").points) == []  # type: ignore[union-attr]


def test_oldest_pinned_window_is_dropped_beyond_max_pinned() -> None:
    rec = SeriesRecorder(pre_points=2, post_points=2, max_pinned=2)
    for key in ("a", "b", "c"):
        rec.record_point(key, 0.0, 1.0)
        rec.mark_anomaly(key, 0.0)
    assert rec.window("a") is None
    assert rec.window("b") is not None
    assert rec.window("c") is not None


def test_band_reports_are_bounded() -> None:
    rec = SeriesRecorder(pre_points=2, post_points=3)
    for ts in range(10):
        rec.mark_anomaly("a", float(ts), 1.0, 0.0, 2.0)
    assert len(rec.window("a").band) == 4  # type: ignore[union-attr]


def test_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError, match="must be >= 1"):
        SeriesRecorder(pre_points=0)
