"""Clock skew between producers of one source never makes an in-order producer's event late."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.events import MetricPoint, Rejected
from engine.ingest.watermark import Sourced, WatermarkTracker
from engine.testing import T0

OP = WatermarkTracker(allowed_lateness_s=60.0, max_clock_skew_s=300.0, max_producers=64)

skews = st.lists(st.floats(-86_400.0, 86_400.0, allow_nan=False), min_size=1, max_size=6)
steps = st.lists(st.integers(0, 5), min_size=1, max_size=120)  # which producer sends next


def _stream(skew_s: list[float], order: list[int]) -> list[Sourced]:
    """Producers each in order on their own clock (10 s a step), interleaved by ``order``."""
    sent = [0] * len(skew_s)
    out = []
    for pick in order:
        i = pick % len(skew_s)
        ts = T0 + skew_s[i] + 10.0 * sent[i]
        sent[i] += 1
        point = MetricPoint(ts, "cpu", 1.0, {"host": f"h{i}"})
        out.append(Sourced("metrics", point, partition=0, offset=len(out)))
    return out


@settings(max_examples=60, deadline=None)
@given(skews, steps, st.integers(1, 40))
def test_in_order_producers_are_never_too_late_whatever_their_clocks(
    skew_s: list[float], order: list[int], batch: int
) -> None:
    stream = _stream(skew_s, order)
    state, out = OP.initial_state(), []
    for start in range(0, len(stream), batch):  # processing time: one second per batch
        state, got = OP.process(state, stream[start : start + batch], now=T0 + start)
        out += got
    assert not [e for e in out if isinstance(e, Rejected)]
    assert state.counts["too_late"] == 0


@settings(max_examples=60, deadline=None)
@given(skews, steps, st.integers(0, 119), st.integers(1, 300))
def test_outputs_do_not_depend_on_how_the_stream_is_batched(
    skew_s: list[float], order: list[int], cut: int, back_s: int
) -> None:
    stream = _stream(skew_s, order)
    if stream:  # one producer jumps back: some of its events become late or too late
        late = stream[len(stream) // 2]
        moved = MetricPoint(late.event.ts - back_s, "cpu", 2.0, {"host": "h0"})
        stream.insert(len(stream) // 2, Sourced("metrics", moved, partition=0, offset=-1))
    _, whole = OP.process(OP.initial_state(), stream, now=T0)
    state, first = OP.process(OP.initial_state(), stream[:cut], now=T0)
    _, rest = OP.process(state, stream[cut:], now=T0)
    assert first + rest == whole
