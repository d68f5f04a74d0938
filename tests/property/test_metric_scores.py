"""Property checks for the metric detector: scores finite in [0, 1) or None; split = whole."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.detect.metric import MetricDetector, score_series
from engine.events import MetricPoint

T0 = 1_764_115_200.0
values = st.lists(st.floats(-1e9, 1e9, allow_nan=False), min_size=1, max_size=150)


@settings(max_examples=60, deadline=None)
@given(values)
def test_scores_are_none_or_in_unit_interval(xs: list[float]) -> None:
    for score in score_series([T0 + 60.0 * i for i in range(len(xs))], xs):
        assert score is None or 0.0 <= score < 1.0


@settings(max_examples=40, deadline=None)
@given(values, st.integers(0, 150))
def test_split_batches_match_single_batch(xs: list[float], cut: int) -> None:
    op = MetricDetector()
    points = [MetricPoint(T0 + 60.0 * i, "m", x, {"service": "s"}) for i, x in enumerate(xs)]
    _, whole = op.process(op.initial_state(), points, now=T0)
    state, first = op.process(op.initial_state(), points[:cut], now=T0)
    _, rest = op.process(op.restore_state(state.to_dict()), points[cut:], now=T0)
    assert first + rest == whole
