from __future__ import annotations

import pytest

from engine.events import MetricPoint, Rejected
from engine.ingest.watermark import (
    Lateness,
    Sourced,
    WatermarkState,
    WatermarkTracker,
    combined_watermark,
)
from engine.testing import T0


def src(offset_s: float, partition: int | None = None, source: str = "metrics") -> Sourced:
    point = MetricPoint(T0 + offset_s, "cpu", 1.0, {"service": "a"})
    return Sourced(source, point, partition=partition, offset=int(offset_s))


def test_out_of_order_within_lateness_is_kept_and_counted_late() -> None:
    op = WatermarkTracker(allowed_lateness_s=30.0)
    state, out = op.process(op.initial_state(), [src(100), src(80), src(70), src(110)], now=T0)
    assert [e.ts - T0 for e in out] == [100, 80, 70, 110]
    assert state.counts == {"on_time": 2, "late": 2, "too_late": 0}


def test_too_late_event_becomes_dead_letter_with_reason_and_origin() -> None:
    op = WatermarkTracker(allowed_lateness_s=30.0)
    state, out = op.process(op.initial_state(), [src(100, 2), src(60, 2)], now=T0)
    rejected = out[1]
    assert isinstance(rejected, Rejected)
    assert rejected.error.startswith("late: ")
    assert "metrics[2]" in rejected.error
    assert (rejected.source, rejected.partition, rejected.offset) == ("metrics", 2, 60)
    assert state.counts["too_late"] == 1


def test_accept_policy_keeps_too_late_events_but_counts_them() -> None:
    op = WatermarkTracker(allowed_lateness_s=30.0, policy="accept")
    state, out = op.process(op.initial_state(), [src(100), src(10)], now=T0)
    assert [type(e) for e in out] == [MetricPoint, MetricPoint]
    assert state.counts["too_late"] == 1


def test_event_exactly_at_watermark_is_late_not_too_late() -> None:
    op = WatermarkTracker(allowed_lateness_s=30.0)
    state, _ = op.process(op.initial_state(), [src(100)], now=T0)
    assert op.classify(state, "metrics", "node=a", T0 + 70) is Lateness.LATE
    assert op.classify(state, "metrics", "node=a", T0 + 69.9) is Lateness.TOO_LATE


def test_skewed_producer_does_not_make_other_sources_late() -> None:
    op = WatermarkTracker(allowed_lateness_s=10.0)
    ahead = [src(3600 + s, partition=0) for s in range(0, 60, 5)]  # clock one hour fast
    normal = [src(s, partition=1) for s in range(0, 60, 5)]
    batch = [e for pair in zip(ahead, normal, strict=True) for e in pair]
    state, out = op.process(op.initial_state(), batch, now=T0)
    assert not [e for e in out if isinstance(e, Rejected)]
    assert state.counts["too_late"] == 0
    assert combined_watermark(state, op, now=T0) == T0 + 55 - 10.0


def test_idle_source_stops_holding_the_watermark_back() -> None:
    op = WatermarkTracker(allowed_lateness_s=0.0, idle_source_s=60.0)
    state, _ = op.process(op.initial_state(), [src(0, partition=0)], now=T0)
    state, _ = op.process(state, [src(500, partition=1)], now=T0 + 30)
    assert combined_watermark(state, op, now=T0 + 30) == T0
    assert combined_watermark(state, op, now=T0 + 61) == T0 + 500


def test_no_watermark_before_any_event() -> None:
    op = WatermarkTracker()
    assert combined_watermark(op.initial_state(), op, now=T0) is None


def test_state_round_trip_mid_stream_gives_same_outputs() -> None:
    op = WatermarkTracker(allowed_lateness_s=20.0)
    events = [src(s, partition=s % 2) for s in (0, 50, 10, 45, 90, 20, 85, 100, 60)]
    _, whole = op.process(op.initial_state(), events, now=T0)
    state, first = op.process(op.initial_state(), events[:4], now=T0)
    restored = WatermarkState.from_dict(state.to_dict())
    _, rest = op.process(restored, events[4:], now=T0)
    assert first + rest == whole
    assert any(isinstance(e, Rejected) for e in whole)


@pytest.mark.parametrize(
    "kwargs",
    [{"allowed_lateness_s": -1.0}, {"idle_source_s": 0.0}, {"policy": "drop"}],
)
def test_bad_config_is_rejected_at_construction(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="must be"):
        WatermarkTracker(**kwargs)  # type: ignore[arg-type]
