"""``SeriesGuard.process`` (inlined, checks the oldest key only when it can have changed) makes
the same decisions as ``admit`` point by point."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.detect.cardinality import Eviction, GuardState, SeriesGuard, admit
from engine.events import MetricPoint
from engine.testing import T0

POINTS = st.lists(
    st.tuples(st.integers(0, 6), st.floats(0.0, 600.0, allow_nan=False)), max_size=120
)


@settings(max_examples=300, deadline=None)
@given(POINTS, st.integers(1, 5), st.floats(1.0, 120.0), st.floats(0.0, 700.0),
       st.integers(0, 120))
def test_process_decides_like_admit_per_point(
    raw: list[tuple[int, float]], cap: int, idle_s: float, now_s: float, cut: int
) -> None:
    points = [MetricPoint(T0 + ts, f"m{k}", 1.0, {"host": "h"}) for k, ts in raw]
    op = SeriesGuard(max_series=cap, idle_s=idle_s)
    expected: list[MetricPoint | Eviction] = []
    reference = GuardState()
    for batch in (points[:cut], points[cut:]):
        for point in batch:
            ok, evictions = admit(reference, point.key, point.ts, max_series=cap, idle_s=idle_s,
                                  now=T0 + now_s)
            expected += [*evictions, *([point] if ok else [])]
    state, got = op.process(op.initial_state(), points[:cut], now=T0 + now_s)
    state, rest = op.process(state, points[cut:], now=T0 + now_s)
    assert got + rest == expected
    assert (list(state.live.items()), state.clock, state.dropped, state.evicted) == (
        list(reference.live.items()), reference.clock, reference.dropped, reference.evicted)
