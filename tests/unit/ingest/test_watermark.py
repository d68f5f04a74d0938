from __future__ import annotations

import pytest

from engine.events import (
    Alert,
    AlertStatus,
    Change,
    GroundTruth,
    InputEvent,
    LogRecord,
    MetricPoint,
    Prediction,
    Rejected,
    Severity,
    TopologyMode,
    TopologyUpdate,
)
from engine.ingest.producers import producer_of
from engine.ingest.watermark import (
    Lateness,
    Sourced,
    WatermarkState,
    WatermarkTracker,
    combined_watermark,
)
from engine.rules import RuleError, parse
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


# -- producers within one source (clock skew) ---------------------------------------------------


def host(offset_s: float, name: str, offset: int = 0, source: str = "metrics") -> Sourced:
    point = MetricPoint(T0 + offset_s, "cpu", 1.0, {"service": f"svc-{name}", "host": name})
    return Sourced(source, point, partition=0, offset=offset)


def interleave(skew_s: float, steps: int = 12, step_s: float = 10.0) -> list[Sourced]:
    """Hosts a and b in step, then c with its clock ``skew_s`` off, all in one partition."""
    batch = []
    for i in range(steps):
        batch += [host(i * step_s, "a"), host(i * step_s, "b"), host(i * step_s + skew_s, "c")]
    return batch


@pytest.mark.parametrize("skew_s", [900.0, -900.0, 3600.0, -3600.0])
def test_skewed_producer_in_the_same_source_makes_no_one_late(skew_s: float) -> None:
    op = WatermarkTracker(allowed_lateness_s=30.0)
    state, out = op.process(op.initial_state(), interleave(skew_s), now=T0)
    assert not [e for e in out if isinstance(e, Rejected)]
    assert state.counts == {"on_time": 36, "late": 0, "too_late": 0}
    assert state.skewed() == 1


@pytest.mark.parametrize(("skew_s", "mark_s"), [(900.0, 110.0), (3600.0, 110.0), (-300.0, -190.0)])
def test_a_producer_ahead_never_drags_the_source_forward_one_behind_holds_it_back(
    skew_s: float, mark_s: float
) -> None:
    op = WatermarkTracker(allowed_lateness_s=30.0, max_clock_skew_s=600.0)
    state, _ = op.process(op.initial_state(), interleave(skew_s), now=T0)
    assert state.sources["metrics[0]"][0] == T0 + mark_s
    assert combined_watermark(state, op, now=T0) == T0 + mark_s - 30.0


def test_a_producer_further_behind_than_max_clock_skew_stops_holding_the_source_back() -> None:
    op = WatermarkTracker(allowed_lateness_s=30.0, max_clock_skew_s=600.0)
    state, out = op.process(op.initial_state(), interleave(-900.0), now=T0)
    assert state.sources["metrics[0]"][0] == T0 + 110.0
    assert (state.skewed(), len(out)) == (1, 36)  # counted, and its events still go on


def test_genuinely_late_event_of_one_producer_is_still_dead_lettered() -> None:
    op = WatermarkTracker(allowed_lateness_s=30.0)
    batch = [host(900, "fast"), host(100, "a"), host(60, "a", offset=7), host(890, "fast")]
    state, out = op.process(op.initial_state(), batch, now=T0)
    rejected = [e for e in out if isinstance(e, Rejected)]
    assert len(rejected) == 1
    assert rejected[0].offset == 7
    assert "producer host=a" in rejected[0].error
    assert "before watermark 1764115270.0" in rejected[0].error  # a's newest (100) - 30
    assert state.counts == {"on_time": 2, "late": 1, "too_late": 1}


def test_idle_producer_stops_holding_its_source_back() -> None:
    op = WatermarkTracker(allowed_lateness_s=0.0, idle_source_s=60.0)
    state, _ = op.process(op.initial_state(), [host(0, "a"), host(0, "b")], now=T0)
    for now_s in (20, 40, 60):
        state, _ = op.process(state, [host(now_s, "a")], now=T0 + now_s)
    assert state.sources["metrics[0]"][0] == T0  # b heard from 60 s ago: still active
    state, _ = op.process(state, [host(80, "a")], now=T0 + 80)
    assert state.sources["metrics[0]"][0] == T0 + 80  # b silent for 80 s > 60 s


def test_one_jump_of_the_runners_clock_does_not_idle_every_producer_at_once() -> None:
    op = WatermarkTracker(allowed_lateness_s=0.0, idle_source_s=60.0)
    state, _ = op.process(op.initial_state(), [host(0, "a"), host(0, "b")], now=T0)
    state, _ = op.process(state, [host(3600, "a")], now=T0 + 3600)  # stalled an hour
    assert state.sources["metrics[0]"][0] == T0  # b counts as heard from 30 s ago
    assert state.clock == [T0 + 3600, T0 + 30]  # the idle clock moved idle_source_s / 2
    state, _ = op.process(state, [host(3610, "a")], now=T0 + 3610)
    state, _ = op.process(state, [host(3640, "a")], now=T0 + 3640)
    assert state.sources["metrics[0]"][0] == T0 + 3640  # then b goes idle as usual


def test_producers_per_source_are_capped_least_recently_seen_evicted() -> None:
    op = WatermarkTracker(allowed_lateness_s=10.0, max_producers=2)
    state, _ = op.process(op.initial_state(), [host(100, "a"), host(100, "b")], now=T0)
    state, _ = op.process(state, [host(110, "a"), host(110, "c")], now=T0 + 10)
    assert list(state.producers["metrics[0]"]) == ["host=a", "host=c"]
    assert state.evicted == 1
    state, out = op.process(state, [host(0, "a"), host(0, "b")], now=T0 + 20)
    assert isinstance(out[0], Rejected)  # a is still tracked: 110 s behind its newest
    assert isinstance(out[1], MetricPoint)  # b was forgotten: its next event counts as on time
    assert list(state.producers["metrics[0]"]) == ["host=a", "host=b"]  # c evicted now
    assert state.evicted == 2


def test_state_round_trip_keeps_producers_and_their_order() -> None:
    op = WatermarkTracker(allowed_lateness_s=20.0, max_producers=2)
    events = [host(s, n) for s, n in ((0, "a"), (50, "b"), (10, "a"), (45, "c"), (90, "b"))]
    events += [host(20, "b"), host(85, "c"), host(100, "a"), host(60, "b")]
    _, whole = op.process(op.initial_state(), events, now=T0)
    state, first = op.process(op.initial_state(), events[:4], now=T0)
    restored = WatermarkState.from_dict(state.to_dict())
    assert restored.to_dict() == state.to_dict()
    _, rest = op.process(restored, events[4:], now=T0)
    assert first + rest == whole
    assert any(isinstance(e, Rejected) for e in whole)


def test_version_1_state_is_read_and_producers_are_learnt_afresh() -> None:
    old = {
        "version": 1,
        "sources": {"metrics[0]": [T0 + 100, T0]},
        "counts": {"on_time": 5, "late": 1, "too_late": 0},
    }
    state = WatermarkState.from_dict(old)
    assert state.version == 2
    op = WatermarkTracker(allowed_lateness_s=30.0)
    assert combined_watermark(state, op, now=T0) == T0 + 70
    state, out = op.process(state, [host(0, "a")], now=T0)  # new producer behind the source
    assert isinstance(out[0], MetricPoint)
    assert state.counts == {"on_time": 5, "late": 2, "too_late": 0}
    assert state.sources["metrics[0]"][0] == T0
    assert state.producers["metrics[0]"] == {"host=a": [T0, T0]}


def test_a_new_producer_behind_its_source_is_late_never_too_late() -> None:
    op = WatermarkTracker(allowed_lateness_s=30.0)
    state, _ = op.process(op.initial_state(), [host(100, "a")], now=T0)
    batch = [host(50, "b"), host(-1000, "c"), host(100, "d"), host(40, "b"), host(0, "b")]
    state, out = op.process(state, batch, now=T0)
    assert [type(e) for e in out] == [MetricPoint] * 4 + [Rejected]  # b's own 0 is too late
    assert state.counts == {"on_time": 2, "late": 3, "too_late": 1}
    assert state.sources["metrics[0]"][0] == T0 + 50  # b; c is too far behind to count
    assert op.classify(state, "metrics[0]", "host=e", T0 + 49) is Lateness.LATE
    assert op.classify(state, "metrics[0]", "host=e", T0 - 9999) is Lateness.LATE


@pytest.mark.parametrize(
    ("event", "producer"),
    [
        (MetricPoint(T0, "cpu", 1.0, {"host": "n1", "service": "web"}), "host=n1"),
        (MetricPoint(T0, "cpu", 1.0, {"instance": "10.0.0.1:9100"}), "instance=10.0.0.1:9100"),
        (MetricPoint(T0, "cpu", 1.0, {"service": "web"}), "node=web"),
        (MetricPoint(T0, "up", 1.0), "name=up"),
        (LogRecord(T0, "GET /", labels={"service": "web"}), "node=web"),
        (LogRecord(T0, "GET /"), ""),
        (Prediction(T0, "churn", "p1", {}, 1), "model=churn"),
        (GroundTruth(T0, "churn", "p1", 1), "model=churn"),
        (
            Alert(T0, "HighLatency", AlertStatus.FIRING, Severity.ERROR, "f1", {"job": "x"}),
            "name=HighLatency",
        ),
        (Alert(T0, "Down", AlertStatus.FIRING, Severity.ERROR, "f2", {"host": "n2"}), "host=n2"),
        (Change(T0, "deploy", "payments"), "node=payments"),
        (TopologyUpdate(T0, TopologyMode.UPSERT), "topology"),
    ],
)
def test_producer_identity_for_every_input_kind(event: InputEvent, producer: str) -> None:
    assert producer_of(event) == producer


def test_new_runtime_options_are_parsed_and_checked_with_file_and_line() -> None:
    text = "runtime:\n  max_clock_skew: 2m\n  max_producers: 50\n"
    runtime = parse(text).runtime
    op = WatermarkTracker.from_rules(runtime)
    assert (op.max_clock_skew_s, op.max_producers) == (120.0, 50)
    with pytest.raises(RuleError) as err:
        parse("runtime:\n  max_clock_skew: -1\n  max_producers: 0\n", source="r.yaml")
    lines = str(err.value).splitlines()
    assert lines[0].startswith("r.yaml:2: runtime.max_clock_skew: ")
    assert lines[1].startswith("r.yaml:3: runtime.max_producers: ")


def test_a_producer_jumping_ahead_in_a_replay_does_not_idle_the_others() -> None:
    """In a replay the runner's clock is the newest event time seen, so a producer jumping 15
    min ahead moves the clock by 15 min at once; the others, still sending, must not count as
    idle for that (the source would then follow the jumper alone), even with tiny batches."""
    op = WatermarkTracker(allowed_lateness_s=0.0, idle_source_s=30.0)
    state, clock, marks = op.initial_state(), T0, []
    for i in range(30):
        for name in ("c", "a", "b"):  # c's clock jumps 15 min ahead from step 10 on
            item = host(i * 10.0 + (900.0 if name == "c" and i >= 10 else 0.0), name)
            clock = max(clock, item.event.ts)
            state, _ = op.process(state, [item], now=clock)  # one event per batch
            marks.append(state.sources["metrics[0]"][0] - T0)
    assert max(marks) <= 290.0  # never past the in-step hosts' newest event
    assert marks[-1] == 290.0


def test_a_re_sent_alert_with_its_old_starts_at_is_late_never_a_dead_letter() -> None:
    """Alertmanager re-sends a firing alert with its original startsAt: an old ts is normal."""
    from testing.examples import example_alert

    op = WatermarkTracker(allowed_lateness_s=300.0)
    first = example_alert(T0, "firing", node="db")
    newer = example_alert(T0 + 3600, "firing", node="db")  # same producer (service db)
    batch = [Sourced("alerts", e) for e in (first, newer, first)]
    state, out = op.process(op.initial_state(), batch, now=T0 + 4 * 3600)
    assert out == [first, newer, first]
    assert state.counts == {"on_time": 2, "late": 1, "too_late": 0}
