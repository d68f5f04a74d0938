from __future__ import annotations

import pytest

from engine.detect.cardinality import Eviction, GuardState, SeriesGuard, admit
from engine.events import MetricPoint
from engine.testing import T0


def point(host: str, offset_s: float) -> MetricPoint:
    return MetricPoint(T0 + offset_s, "cpu", 1.0, {"host": host})


def test_new_series_past_the_cap_are_dropped_and_counted() -> None:
    op = SeriesGuard(max_series=3, idle_s=3600.0)
    batch = [point(f"h{i}", i) for i in range(10)]
    state, out = op.process(op.initial_state(), batch, now=T0)
    assert [p.labels["host"] for p in out if isinstance(p, MetricPoint)] == ["h0", "h1", "h2"]
    assert (state.dropped, state.evicted, len(state.live)) == (7, 0, 3)


def test_known_series_keep_flowing_at_the_cap() -> None:
    op = SeriesGuard(max_series=2, idle_s=3600.0)
    batch = [point("a", 0), point("b", 1), point("x", 2), point("a", 3), point("b", 4)]
    state, out = op.process(op.initial_state(), batch, now=T0)
    assert [p.labels["host"] for p in out if isinstance(p, MetricPoint)] == ["a", "b", "a", "b"]
    assert state.dropped == 1


def test_a_series_whose_clock_runs_ahead_does_not_idle_the_others() -> None:
    op = SeriesGuard(max_series=3, idle_s=60.0)
    batch = [point("a", 0), point("b", 10), point("fast", 5400), point("a", 20)]
    state, out = op.process(op.initial_state(), batch, now=T0 + 20)
    assert not [e for e in out if isinstance(e, Eviction)]
    assert state.live['cpu{host="fast"}'] == T0 + 20  # seen "now", not 90 min from now
    state, out = op.process(state, [point("a", 70), point("b", 70)], now=T0 + 70)
    assert not [e for e in out if isinstance(e, Eviction)]
    state, out = op.process(state, [point("a", 100)], now=T0 + 100)  # fast went silent
    assert [e.key for e in out if isinstance(e, Eviction)] == ['cpu{host="fast"}']


def test_idle_series_are_evicted_by_event_time_and_free_their_slot() -> None:
    op = SeriesGuard(max_series=2, idle_s=60.0)
    batch = [point("a", 0), point("b", 30), point("c", 61), point("c", 62)]
    state, out = op.process(op.initial_state(), batch, now=T0 + 62)
    assert out[2] == Eviction('cpu{host="a"}', T0)
    assert [type(e).__name__ for e in out] == [
        "MetricPoint",
        "MetricPoint",
        "Eviction",
        "MetricPoint",
        "MetricPoint",
    ]
    assert list(state.live) == ['cpu{host="b"}', 'cpu{host="c"}']
    assert (state.dropped, state.evicted) == (0, 1)


def test_live_series_never_exceed_the_cap_whatever_is_offered() -> None:
    state = GuardState()
    most = 0
    for i in range(20_000):
        admit(state, f"k{i % 5000}", T0 + i * 0.1, max_series=100, idle_s=30.0)
        most = max(most, len(state.live))
    assert most == 100
    assert state.evicted > 0
    assert state.dropped > 0


def test_late_point_does_not_move_the_clock_back() -> None:
    state = GuardState()
    admit(state, "a", T0 + 100, max_series=10, idle_s=10.0)
    admit(state, "b", T0 + 50, max_series=10, idle_s=10.0)
    assert state.clock == T0 + 100
    assert state.live == {"a": T0 + 100, "b": T0 + 50}


def test_state_round_trip_keeps_recency_order_and_outputs() -> None:
    op = SeriesGuard(max_series=4, idle_s=20.0)
    batch = [point(f"h{i % 7}", i * 3.0) for i in range(60)]
    _, whole = op.process(op.initial_state(), batch, now=T0)
    state, first = op.process(op.initial_state(), batch[:25], now=T0)
    _, rest = op.process(GuardState.from_dict(state.to_dict()), batch[25:], now=T0)
    assert first + rest == whole


@pytest.mark.parametrize("kwargs", [{"max_series": 0}, {"idle_s": 0.0}])
def test_bad_config_is_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        SeriesGuard(**kwargs)  # type: ignore[arg-type]
