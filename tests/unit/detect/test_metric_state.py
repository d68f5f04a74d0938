"""Metric state snapshots: the version is written, old snapshots load, unknown ones are refused."""

from __future__ import annotations

import pytest

from engine.detect.baseline import SeriesModel
from engine.detect.metric import MetricDetector
from engine.detect.metric_state import STATE_VERSION
from engine.events import MetricPoint
from engine.rules.detectors import DetectorRules

T0 = 1_764_115_200.0


def _points(n: int, start: int = 0) -> list[MetricPoint]:
    return [MetricPoint(T0 + 60 * i, "latency", 10.0 + (i * 7) % 5, {"service": "api"})
            for i in range(start, start + n)]


def _snapshot() -> tuple[MetricDetector, dict[str, object]]:
    op = MetricDetector.from_rules(DetectorRules())
    state, _ = op.process(op.initial_state(), _points(200), now=T0)
    return op, state.to_dict()


def test_snapshot_carries_the_current_version() -> None:
    _, snap = _snapshot()
    assert snap["version"] == STATE_VERSION == 10


def test_version_1_snapshot_with_old_model_fields_loads_and_keeps_its_baseline() -> None:
    op, snap = _snapshot()
    series = snap["series"]
    assert isinstance(series, dict)
    key = _points(1)[0].key
    model = series[key]["model"]
    old = {k: v for k, v in model.items() if k not in ("quiet", "run_surprise", "context")}
    old.update(peak=0.0, peak_age=0)  # fields of the first format, gone since
    v1 = {"version": 1, "series": {key: {**series[key], "model": old}}}
    state = op.restore_state(v1)
    restored = state.series[key].model
    assert restored is not None
    assert restored.to_dict()["level"] == model["level"]
    assert restored.to_dict()["n"] == model["n"]
    _, out = op.process(state, _points(50, 200), now=T0)
    assert state.to_dict()["version"] == STATE_VERSION
    assert all(a.score < 1.0 for a in out)


def test_version_2_snapshot_loads_with_a_fresh_shift_statistic() -> None:
    op, snap = _snapshot()
    series = snap["series"]
    assert isinstance(series, dict)
    key = _points(1)[0].key
    model = {k: v for k, v in series[key]["model"].items() if not k.startswith("shift_")}
    state = op.restore_state({"version": 2, "series": {key: {**series[key], "model": model}}})
    restored = state.series[key].model
    assert restored is not None
    assert restored.to_dict()["shift_hi"] == 0.0
    assert restored.to_dict()["hist"] == model["hist"]


def test_version_3_snapshot_loads_and_keeps_its_baseline() -> None:
    op, snap = _snapshot()
    series = snap["series"]
    assert isinstance(series, dict)
    key = _points(1)[0].key
    model = dict(series[key]["model"])
    state = op.restore_state({"version": 3, "series": {key: {**series[key], "model": model}}})
    restored = state.series[key].model
    assert restored is not None
    assert restored.to_dict()["level"] == model["level"]


def test_version_6_snapshot_with_a_report_count_loads_without_it() -> None:
    op, snap = _snapshot()
    series = snap["series"]
    assert isinstance(series, dict)
    key = _points(1)[0].key
    model = {**series[key]["model"], "reports": 2.5}  # the repeat penalty's count, gone in 7
    state = op.restore_state({"version": 6, "series": {key: {**series[key], "model": model}}})
    restored, current = state.series[key].model, op.restore_state(snap).series[key].model
    assert restored is not None
    assert current is not None
    assert "reports" not in restored.to_dict()
    assert restored.to_dict() == current.to_dict()


def test_version_4_snapshot_loads_with_its_histogram_sums_recomputed() -> None:
    op, snap = _snapshot()
    series = snap["series"]
    assert isinstance(series, dict)
    key = _points(1)[0].key
    model = {k: v for k, v in series[key]["model"].items()
             if k not in ("hist_total", "shift_total")}
    model["context"] = {k: v for k, v in model["context"].items() if k != "total"}
    old = op.restore_state({"version": 4, "series": {key: {**series[key], "model": model}}})
    new = op.restore_state(snap)
    restored, current = old.series[key].model, new.series[key].model
    assert restored is not None
    assert current is not None
    got, want = restored.to_dict(), current.to_dict()
    for total in ("hist_total", "shift_total"):
        assert want[total] > 0.0
        assert got[total] == pytest.approx(want[total], rel=1e-12)
    assert got["context"]["total"] == pytest.approx(want["context"]["total"], rel=1e-12)
    spike = [MetricPoint(T0 + 60 * 231, "latency", 90.0, {"service": "api"})]
    _, out_old = op.process(old, _points(30, 201) + spike, now=T0)
    _, out_new = op.process(new, _points(30, 201) + spike, now=T0)
    assert out_new
    assert [a.score for a in out_old] == pytest.approx([a.score for a in out_new], rel=1e-9)


def test_version_5_snapshot_loads_with_an_empty_recurrence_memory() -> None:
    op, snap = _snapshot()
    series = snap["series"]
    assert isinstance(series, dict)
    key = _points(1)[0].key
    model = {k: v for k, v in series[key]["model"].items() if k != "recur"}
    state = op.restore_state({"version": 5, "series": {key: {**series[key], "model": model}}})
    restored = state.series[key].model
    assert restored is not None
    got = restored.to_dict()
    assert len(got["recur"]) == len(series[key]["model"]["recur"])
    assert max(got["recur"]) < -1e299  # nothing remembered yet
    assert got["hist"] == model["hist"]


@pytest.mark.parametrize("version", [None, 0, STATE_VERSION + 1, "2"])
def test_unknown_version_is_refused_with_a_clear_error(version: object) -> None:
    op, snap = _snapshot()
    bad = {**snap, "version": version}
    if version is None:
        del bad["version"]
    with pytest.raises(ValueError, match=r"metric state version .* is not supported"):
        op.restore_state(bad)


def test_key_memo_gives_the_series_key_whatever_the_label_order() -> None:
    from engine.detect.metric_state import MetricState

    state = MetricState()
    a = MetricPoint(T0, "cpu", 1.0, {"service": "api", "host": "h1"})
    b = MetricPoint(T0, "cpu", 2.0, {"host": "h1", "service": "api"})
    c = MetricPoint(T0, "cpu", 2.0, {"host": "h2", "service": "api"})
    assert state.key_of(a) == state.key_of(b) == a.key == b.key
    assert state.key_of(c) == c.key != a.key
    assert "keys" not in state.to_dict()


def test_version_7_snapshot_loads_with_its_baseline_and_relearns_the_new_fields() -> None:
    op, snap = _snapshot()
    series = snap["series"]
    assert isinstance(series, dict)
    key = _points(1)[0].key
    new = ("prev_ts", "dt", "quiet_decades", "integral", "slow_mean", "slow_var")
    model = {k: v for k, v in series[key]["model"].items() if k not in new}
    state = op.restore_state({"version": 7, "series": {key: {**series[key], "model": model}}})
    restored = state.series[key].model
    assert restored is not None
    data = restored.to_dict()
    assert data["dt"] == 0.0  # learnt again from the next gap
    assert data["prev_ts"] == series[key]["last_ts"]
    assert data["integral"] is True  # its range and last value are whole: a count so far
    assert {k: v for k, v in data.items() if k not in new} == model
    state, _ = op.process(state, [MetricPoint(T0 + 60 * 200, "latency", 10.5,
                                              {"service": "api"})], now=T0)
    model_after = state.series[key].model
    assert model_after is not None
    assert model_after.to_dict()["integral"] is False


def test_version_8_snapshot_loads_with_a_slow_view_from_its_level() -> None:
    op, snap = _snapshot()
    series = snap["series"]
    assert isinstance(series, dict)
    key = _points(1)[0].key
    model = {k: v for k, v in series[key]["model"].items() if not k.startswith("slow_")}
    state = op.restore_state({"version": 8, "series": {key: {**series[key], "model": model}}})
    restored = state.series[key].model
    assert restored is not None
    data = restored.to_dict()
    assert data["slow_mean"] == model["level"]  # not 0: the next point is not a jump from 0
    assert 0.0 < data["slow_var"] < 25.0  # the level's error scale squared (values 10 to 14)
    assert {k: v for k, v in data.items() if not k.startswith("slow_")} == model
    _, out = op.process(state, _points(50, 200), now=T0)
    assert out == []  # the same pattern as before the snapshot: nothing to report


def test_version_9_snapshot_loads_with_an_empty_week_ago_view() -> None:
    op, snap = _snapshot()
    series = snap["series"]
    assert isinstance(series, dict)
    key = _points(1)[0].key
    model = {k: v for k, v in series[key]["model"].items() if not k.startswith("week")}
    state = op.restore_state({"version": 9, "series": {key: {**series[key], "model": model}}})
    restored = state.series[key].model
    assert isinstance(restored, SeriesModel)
    assert restored.week == []
    assert restored.week_n == 0
    assert restored.week_slot == -1
    assert restored.to_dict()["hist"] == model["hist"]
