"""The incident task's event time comes from upstream watermarks, so arrival order is moot."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from aiokafka import TopicPartition

from connectors.kafka import envelope
from connectors.kafka.tasks import IncidentTask, Position, position_from
from connectors.kafka.telemetry import METRICS
from connectors.kafka.watermarks import (
    Fetched,
    FetchProbe,
    WatermarkPublisher,
    observe_mark,
    stage_time,
)
from engine.events import Incident
from engine.pipeline import Pipeline
from engine.rules import parse
from engine.testing import T0
from testing.examples import example_anomaly

RULES = parse("correlation:\n  confirm_s: 0\n")


@dataclass
class Rec:
    offset: int
    value: bytes | None
    timestamp: int = int(T0 * 1000)


def _task(expected: frozenset[str] = frozenset()) -> IncidentTask:
    stage = Pipeline.from_rules(RULES).incident
    return IncidentTask(stage, "incident-in", 0, stage.initial_state(), Position(), 60.0, expected)


def _wm(src: str, ts: float, idle: bool = False) -> bytes:
    return envelope.encode_watermark(envelope.Watermark(src, ts, idle))


def _source(n: int) -> list[bytes]:
    """Upstream partition ``n``: anomalies on db then api a minute apart, then its mark."""
    out = []
    for minute in range(10):
        node = ("db", "api")[(minute + n) % 2]
        out.append(envelope.encode(example_anomaly(node, T0 + 60 * minute + n, 0.99)))
    return [*out, _wm(f"metrics/{n}", T0 + 600 + n)]


def _incidents(
    values: list[bytes], chunk: int, expected: frozenset[str] = frozenset()
) -> dict[str, tuple[str, ...]]:
    task, out = _task(expected), []
    recs = [Rec(i, v) for i, v in enumerate(values)]
    for start in range(0, len(recs), chunk):
        outs, rejected = task.process(recs[start : start + chunk], [])
        assert rejected == []
        out += outs
    outs, _ = task.process([Rec(len(recs), _wm("metrics/0", T0 + 9999, idle=True))], [])
    outs2, _ = task.process([Rec(len(recs) + 1, _wm("metrics/1", T0 + 9999, idle=True))], [])
    last = {o.id: o for o in [*out, *outs, *outs2] if isinstance(o, Incident)}
    return {i: inc.alerts for i, inc in last.items()}


def test_two_interleavings_of_the_same_sources_give_the_same_incidents() -> None:
    # both sources are known (a first mark each) before their events interleave: an unknown
    # source cannot hold the stage back (see connectors.kafka.watermarks)
    known = [_wm("metrics/0", T0 - 1), _wm("metrics/1", T0 - 1)]
    a, b = _source(0), _source(1)
    one_then_other = _incidents([*known, *a, *b], chunk=5)
    zipped = [v for pair in zip(b, a, strict=True) for v in pair]
    redelivered = [*known, *zipped, *a[:4]]  # a restarted upstream re-sends what it had sent
    assert one_then_other
    assert _incidents(redelivered, chunk=3) == one_then_other


def test_nothing_is_released_until_every_active_source_has_passed() -> None:
    task = _task()
    a = _source(0)
    task.process([Rec(i, v) for i, v in enumerate(a)], [])
    assert task.state.reorder.counts["released"] == 9  # a's marks less 60 s lateness
    task.process([Rec(20, _wm("metrics/1", T0))], [])  # a slower partition appears
    assert task.state.reorder.released_to == T0 + 600 - 60 - 0.001


def test_stage_time_is_the_slowest_active_source_less_the_lateness() -> None:
    marks: dict[str, list[float]] = {}
    assert stage_time(marks, 60.0) == 0.0
    observe_mark(marks, envelope.Watermark("m/0", T0 + 600))
    observe_mark(marks, envelope.Watermark("m/1", T0 + 300))
    observe_mark(marks, envelope.Watermark("m/1", T0 + 100))  # re-delivered, older
    assert stage_time(marks, 60.0) == T0 + 300 - 60 - 0.001
    observe_mark(marks, envelope.Watermark("m/1", T0 + 300, idle=True))
    assert stage_time(marks, 60.0) == T0 + 600 - 60 - 0.001
    observe_mark(marks, envelope.Watermark("m/0", T0 + 600, idle=True))
    assert stage_time(marks, 60.0) == T0 + 600


def test_source_marks_survive_the_snapshot() -> None:
    task = _task()
    task.process([Rec(0, _wm("metrics/3", T0 + 60)), Rec(1, _wm("logs/0", T0, idle=True))], [])
    snap = orjson.loads(orjson.dumps(task.snapshot()))
    assert position_from(snap).sources == {"metrics/3": [T0 + 60, 0.0], "logs/0": [T0, 1.0]}


def test_a_source_that_has_not_reported_holds_the_stage_at_start_up() -> None:
    # start-up with a backlog: partition 0 is processed to its end before partition 1 reports
    expected = frozenset({"metrics/0", "metrics/1"})
    a, b = _source(0), _source(1)
    known = [_wm("metrics/0", T0 - 1), _wm("metrics/1", T0 - 1)]
    reference = _incidents([*known, *a, *b], chunk=5)
    assert _incidents([*a, *b], chunk=5, expected=expected) == reference
    task = _task(expected)
    task.process([Rec(i, v) for i, v in enumerate(a)], [])
    assert task.state.reorder.counts["released"] == 0
    task.process([Rec(20, _wm("metrics/1", 0.0))], [])  # registered with a backlog, no time yet
    assert task.state.reorder.counts["released"] == 0


class _Sent:
    def add_done_callback(self, _: object) -> None:
        pass


@dataclass
class _Producer:
    """The two aiokafka producer calls the publisher makes (a third-party client)."""

    sent: list[tuple[int, dict[str, object]]]

    async def partitions_for(self, topic: str) -> set[int]:
        return {0, 1}

    async def send(self, topic: str, value: bytes, partition: int) -> _Sent:
        self.sent.append((partition, orjson.loads(value)))
        return _Sent()


async def test_assigned_sources_register_as_holding_or_idle_at_once() -> None:
    producer = _Producer([])
    publisher = WatermarkPublisher(producer, "incident-in", idle_s=30.0)  # type: ignore[arg-type]
    backlog, empty = Position(next_offset=None), Position(next_offset=None)
    await publisher.register("metrics/0", backlog, waiting=True, now_s=100.0)
    await publisher.register("metrics/1", empty, waiting=False, now_s=100.0)
    marks = {(p, m["src"]): (m["ts"], m["idle"]) for p, m in producer.sent}
    assert marks == {
        (0, "metrics/0"): (0.0, False),
        (1, "metrics/0"): (0.0, False),
        (0, "metrics/1"): (0.0, True),
        (1, "metrics/1"): (0.0, True),
    }
    producer.sent.clear()
    owned = [("metrics/0", backlog), ("metrics/1", empty)]
    assert await publisher.publish(owned, now_s=101.0) == 0  # nothing new to say
    assert await publisher.publish(owned, now_s=131.0) == 1  # backlog never came: idle
    assert {m["src"]: m["idle"] for _, m in producer.sent} == {"metrics/0": True}


def test_a_late_incident_event_is_exported_as_a_metric() -> None:
    def late() -> float:
        value = METRICS.registry.get_sample_value(
            "vigil_incident_late_events_total", {"lateness": "late"}
        )
        return value or 0.0

    task, counted = _task(), late()
    task.process([Rec(0, _wm("metrics/0", T0 + 600, idle=True))], [])  # released up to T0+600
    straggler = envelope.encode(example_anomaly("db", T0 + 300, 0.99))
    _, rejected = task.process([Rec(1, straggler)], [])
    assert rejected == []  # within the de-duplication horizon: processed, out of order
    assert task.state.reorder.counts["late"] == 1
    assert late() == counted + 1
    task.process([Rec(2, straggler)], [])  # its re-delivery is a duplicate, not late again
    assert late() == counted + 1


async def test_quiet_time_counts_only_while_the_probe_confirms_the_source_caught_up() -> None:
    fetched = {"metrics/0": Fetched.UNKNOWN}
    producer = _Producer([])
    publisher = WatermarkPublisher(
        producer,  # type: ignore[arg-type]  # the aiokafka calls only
        "incident-in",
        idle_s=30.0,
        probe=lambda src, _: fetched[src],
    )
    position = Position(next_offset=5, watermark=T0)
    await publisher.register("metrics/0", position, waiting=True, now_s=0.0)
    producer.sent.clear()
    owned = [("metrics/0", position)]
    for now_s in range(1, 60):  # broker unreachable for a minute: never idle
        await publisher.publish(owned, now_s=float(now_s))
    assert producer.sent == []
    fetched["metrics/0"] = Fetched.CAUGHT_UP
    await publisher.publish(owned, now_s=60.0)  # the second since the last check counts
    await publisher.publish(owned, now_s=88.0)
    assert producer.sent == []  # 29 s of healthy quiet
    await publisher.publish(owned, now_s=90.0)
    assert [m["idle"] for _, m in producer.sent] == [True, True]  # to both partitions
    producer.sent.clear()
    fetched["metrics/0"] = Fetched.WAITING  # new records, not read yet: holding again at once
    await publisher.publish(owned, now_s=90.1)
    assert [(m["ts"], m["idle"]) for _, m in producer.sent] == [(T0, False), (T0, False)]


@dataclass
class _Consumer:
    """aiokafka's per-partition fetch bookkeeping, as ``FetchProbe`` reads it."""

    polled_ms: dict[TopicPartition, int]
    ends: dict[TopicPartition, int]

    def last_poll_timestamp(self, tp: TopicPartition) -> int | None:
        assert tp in self.ends, "Partition is not assigned"
        return self.polled_ms.get(tp)

    def highwater(self, tp: TopicPartition) -> int | None:
        assert tp in self.ends, "Partition is not assigned"
        return self.ends[tp]


def test_fetch_probe_wants_a_fresh_fetch_at_the_partition_end() -> None:
    tp = TopicPartition("metrics", 3)
    consumer = _Consumer({tp: 100_000}, {tp: 50})
    probe = FetchProbe(consumer, fresh_s=1.0, clock=lambda: 100.5)  # type: ignore[arg-type]
    assert probe("metrics/3", Position(next_offset=50)) is Fetched.CAUGHT_UP
    assert probe("metrics/3", Position(next_offset=42)) is Fetched.WAITING
    assert probe("metrics/3", Position(next_offset=None)) is Fetched.CAUGHT_UP  # nothing read
    assert probe("metrics/2", Position(next_offset=50)) is Fetched.UNKNOWN  # not assigned
    stale = FetchProbe(consumer, fresh_s=1.0, clock=lambda: 102.0)  # type: ignore[arg-type]
    assert stale("metrics/3", Position(next_offset=50)) is Fetched.UNKNOWN  # broker silent
    consumer.polled_ms.clear()
    assert probe("metrics/3", Position(next_offset=50)) is Fetched.UNKNOWN  # never fetched
