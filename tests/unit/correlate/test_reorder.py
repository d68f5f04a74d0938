"""EventReorder: events wait for the watermark, come out in (ts, kind, key) order, once each."""

from __future__ import annotations

import orjson
import pytest

from engine.correlate.reorder import EventReorder, ReorderState
from engine.events import (
    Change,
    Rejected,
    TopologyEdge,
    TopologyMode,
    TopologyNode,
    TopologyUpdate,
)
from engine.testing import T0
from testing.examples import example_alert, example_anomaly

OP = EventReorder(dedupe_horizon_s=600.0)


def test_events_wait_until_the_watermark_reaches_their_ts() -> None:
    late, early = example_anomaly("db", T0 + 120, 0.99), example_anomaly("db", T0 + 60, 0.99)
    state, out = OP.process(OP.initial_state(), [late, early], now=T0 + 59)
    assert out == []
    state, out = OP.process(state, [], now=T0 + 60)
    assert out == [early]
    state, out = OP.process(state, [], now=T0 + 500)
    assert out == [late]
    assert state.pending == []


def test_events_with_the_same_ts_come_out_topology_change_alert_anomaly() -> None:
    ts = T0 + 60
    topo = TopologyUpdate(ts, TopologyMode.UPSERT, (TopologyNode("db"),), ())
    change = Change(ts, "deploy", "db", "1.2")
    alert = example_alert(ts, "firing", node="db")
    anomalies = [example_anomaly(n, ts, 0.99) for n in ("web", "db", "api")]
    batch = [*anomalies, alert, change, topo]
    _, out = OP.process(OP.initial_state(), batch, now=ts)
    assert out[:3] == [topo, change, alert]
    assert [a.id for a in out[3:]] == sorted(a.id for a in anomalies)


def test_a_redelivered_event_is_dropped_whether_pending_or_released() -> None:
    a = example_anomaly("db", T0 + 60, 0.99)
    b = example_anomaly("db", T0 + 120, 0.99)
    state, out = OP.process(OP.initial_state(), [a, b, b], now=T0 + 60)
    assert out == [a]
    state, out = OP.process(state, [a, b], now=T0 + 120)
    assert out == [b]
    assert state.counts["duplicate"] == 3


def test_alert_notifications_of_one_alert_are_distinct_events() -> None:
    firing, resolved = example_alert(T0 + 60, "firing"), example_alert(T0 + 120, "resolved")
    _, out = OP.process(OP.initial_state(), [firing, resolved, firing], now=T0 + 120)
    assert out == [firing, resolved]


def test_an_event_behind_the_watermark_is_released_at_once_and_counted_late() -> None:
    state, _ = OP.process(OP.initial_state(), [], now=T0 + 300)
    straggler = example_anomaly("db", T0 + 200, 0.99)
    state, out = OP.process(state, [straggler], now=T0 + 300)
    assert out == [straggler]
    assert state.counts["late"] == 1


def test_an_event_older_than_the_horizon_is_a_dead_letter() -> None:
    state, _ = OP.process(OP.initial_state(), [], now=T0 + 3600)
    _, out = OP.process(state, [example_anomaly("db", T0, 0.99)], now=T0 + 3600)
    assert len(out) == 1
    assert isinstance(out[0], Rejected)
    assert out[0].error.startswith("late: ")


def test_keys_older_than_the_horizon_are_forgotten() -> None:
    a = example_anomaly("db", T0, 0.99)
    state, _ = OP.process(OP.initial_state(), [a], now=T0)
    assert list(state.released) == [a.id]
    state, _ = OP.process(state, [], now=T0 + 601)
    assert state.released == {}


def test_state_with_every_kind_pending_survives_json() -> None:
    ts = T0 + 60
    batch = [
        TopologyUpdate(ts, TopologyMode.REPLACE, (TopologyNode("db"),), (TopologyEdge("a", "db"),)),
        Change(ts, "deploy", "db"),
        example_alert(ts, "firing"),
        example_anomaly("db", ts, 0.99),
    ]
    state, _ = OP.process(OP.initial_state(), batch, now=T0)
    restored = ReorderState.from_dict(orjson.loads(orjson.dumps(state.to_dict())))
    _, whole = OP.process(state, [], now=ts)
    _, again = OP.process(restored, [], now=ts)
    assert again == whole
    assert len(whole) == 4


def test_an_alert_re_sent_hours_later_with_its_old_starts_at_is_a_duplicate() -> None:
    """Alertmanager re-sends a firing alert with its original startsAt every repeat_interval
    (4 h by default): far behind the horizon, yet neither a dead letter nor a new member."""
    firing = example_alert(T0, "firing")
    state, out = OP.process(OP.initial_state(), [firing], now=T0)
    assert out == [firing]
    for hours in (4, 8, 12):  # each re-send keeps the alert known
        state, out = OP.process(state, [firing], now=T0 + hours * 3600.0)
        assert out == []
    assert state.counts["duplicate"] == 3
    assert (state.counts["late"], state.counts["too_late"]) == (0, 0)


def test_an_alert_first_seen_long_after_it_started_is_released_late_not_rejected() -> None:
    state, _ = OP.process(OP.initial_state(), [], now=T0 + 5 * 3600.0)
    firing = example_alert(T0, "firing")  # firing since before Vigil started
    state, out = OP.process(state, [firing], now=T0 + 5 * 3600.0)
    assert out == [firing]
    assert state.counts["late"] == 1
    _, out = OP.process(state, [firing], now=T0 + 9 * 3600.0)  # its next re-send
    assert out == []


def test_an_alert_not_re_sent_within_the_alert_horizon_is_forgotten() -> None:
    op = EventReorder(dedupe_horizon_s=600.0, alert_horizon_s=7200.0)
    state, _ = op.process(op.initial_state(), [example_alert(T0, "firing")], now=T0)
    state, _ = op.process(state, [], now=T0 + 7200.0)
    assert len(state.alerts) == 1
    state, _ = op.process(state, [], now=T0 + 7201.0)
    assert state.alerts == {}


def test_a_version_1_state_is_read_with_no_alert_memory() -> None:
    a = example_anomaly("db", T0, 0.99)
    state, _ = OP.process(OP.initial_state(), [a], now=T0)
    data = state.to_dict()
    del data["alerts"]
    data["version"] = 1
    restored = ReorderState.from_dict(data)
    assert (restored.released, restored.alerts, restored.version) == (state.released, {}, 3)


def test_the_alert_horizon_cannot_be_shorter_than_the_dedupe_horizon() -> None:
    with pytest.raises(ValueError, match="alert_horizon_s"):
        EventReorder(dedupe_horizon_s=600.0, alert_horizon_s=60.0)


def test_past_the_alert_key_cap_the_least_recently_received_is_evicted_and_counted() -> None:
    op = EventReorder(dedupe_horizon_s=600.0, max_alert_keys=2)
    a, b, c = (example_alert(T0, "firing", node) for node in ("a", "b", "c"))
    state, out = op.process(op.initial_state(), [a, b], now=T0)
    state, out = op.process(state, [a], now=T0 + 60)  # a re-send of a: b is the oldest key
    state, out = op.process(state, [c], now=T0 + 120)  # late (behind the watermark): released
    assert (out, len(state.alerts), state.alerts_evicted) == ([c], 2, 1)
    state, out = op.process(state, [a, b], now=T0 + 180)  # a still known; b was forgotten
    assert (out, state.alerts_evicted) == ([b], 2)


def test_a_version_2_state_keeps_its_alert_keys_and_has_evicted_none() -> None:
    state, _ = OP.process(OP.initial_state(), [example_alert(T0, "firing")], now=T0)
    data = orjson.loads(orjson.dumps(state.to_dict()))
    del data["alerts_evicted"]
    data["version"] = 2
    restored = ReorderState.from_dict(data)
    assert (dict(restored.alerts), restored.alerts_evicted) == (dict(state.alerts), 0)
    assert restored.to_dict() == state.to_dict()
    _, out = OP.process(restored, [example_alert(T0, "firing")], now=T0 + 4 * 3600.0)
    assert out == []  # its re-send is still a duplicate
