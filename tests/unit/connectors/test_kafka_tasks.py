"""Per-partition tasks: decoding, dead letters with location, positions, snapshot round trip."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson

from connectors.kafka import envelope
from connectors.kafka.decoder import decode_batch
from connectors.kafka.tasks import (
    SNAPSHOT_VERSION,
    ContextTask,
    DetectTask,
    IncidentTask,
    Position,
    intake_from,
    position_from,
)
from engine.detect.telemetry import is_telemetry
from engine.events import (
    Alert,
    AlertStatus,
    Anomaly,
    AnomalyKind,
    Change,
    InputKind,
    Rejected,
    Severity,
)
from engine.ingest.decode import Origin, decode_record
from engine.ingest.intake import IntakeStage
from engine.pipeline import Pipeline
from engine.rules import RuleSet

T0 = 1_764_115_200.0


@dataclass
class Rec:
    offset: int
    value: bytes | None
    timestamp: int = int(T0 * 1000)


def _metric(i: int, value: float) -> bytes:
    return orjson.dumps(
        {"ts": T0 + 60 * i, "name": "lat", "value": value, "labels": {"service": "a"}}
    )


def _detect_task(offset: int | None = None) -> DetectTask:
    stage = Pipeline.from_rules(RuleSet()).detect
    return DetectTask(
        stage, InputKind.METRICS, "metrics", 2, stage.initial_state(), Position(offset)
    )


def test_bad_records_become_dead_letters_with_topic_partition_offset() -> None:
    task = _detect_task()
    recs = [Rec(10, _metric(0, 1.0)), Rec(11, b"{oops"), Rec(12, None), Rec(13, _metric(1, 1.0))]
    anomalies, rejected = task.process(recs, clock=T0)
    assert [a for a in anomalies if not is_telemetry(a)] == []  # a's mark: it has telemetry
    assert [(r.source, r.partition, r.offset) for r in rejected] == [
        ("metrics", 2, 11),
        ("metrics", 2, 12),
    ]
    assert task.position.next_offset == 14
    assert task.position.watermark == T0 + 60


def test_restored_snapshot_continues_exactly_like_an_uninterrupted_task() -> None:
    values = [10.0 + (i % 3) * 0.1 for i in range(60)] + [90.0] + [10.0] * 5
    recs = [Rec(i, _metric(i, v)) for i, v in enumerate(values)]
    whole = _detect_task()
    expected, _ = whole.process(recs, clock=T0)
    first = _detect_task()
    out1, _ = first.process(recs[:40], clock=T0)
    snap = orjson.loads(orjson.dumps(first.snapshot()))
    second = _detect_task()
    second.state, second.position = second.stage.restore_state(snap["state"]), position_from(snap)
    second.intake = intake_from(snap, "metrics", 2, IntakeStage())
    out2, _ = second.process(recs[40:], clock=T0)
    assert expected, "the spike must be detected for this test to mean anything"
    assert out1 + out2 == expected
    assert second.position.next_offset == len(values)


def _host_metric(host: str, ts: float, value: float = 1.0) -> bytes:
    labels = {"service": "a", "host": host}
    return orjson.dumps({"ts": ts, "name": "lat", "value": value, "labels": labels})


def _three_hosts(minutes: int, skew_s: float = 0.0) -> list[bytes]:
    """One point a minute from hosts a, b, c (c's clock ``skew_s`` ahead), interleaved."""
    return [
        _host_metric(host, T0 + 60 * i + (skew_s if host == "c" else 0.0))
        for i in range(minutes)
        for host in "abc"
    ]


def test_a_fast_host_in_the_partition_does_not_move_the_published_watermark() -> None:
    plain, skewed = _detect_task(), _detect_task()
    plain.process([Rec(i, v) for i, v in enumerate(_three_hosts(30))], clock=T0)
    skewed.process([Rec(i, v) for i, v in enumerate(_three_hosts(30, 900.0))], clock=T0)
    assert plain.position.watermark == T0 + 60 * 29
    assert skewed.position.watermark == plain.position.watermark
    # the partition's newest event time is 15 min further: what the watermark used to be
    assert skewed.intake.marks.producers["metrics[2]"]["host=c"][0] == T0 + 60 * 29 + 900
    assert skewed.intake.marks.counts["too_late"] == 0


def test_a_truly_too_late_event_of_one_producer_is_a_dead_letter_with_its_location() -> None:
    task = _detect_task()
    values = _three_hosts(20, 900.0)
    values += [_host_metric("a", T0), _host_metric("c", T0 + 1900.0), _host_metric("b", T0 + 1140)]
    _, rejected = task.process([Rec(100 + i, v) for i, v in enumerate(values)], clock=T0)
    # a's point 19 min behind a's newest is too late (allowed lateness 5 min); c's point is
    # 12.7 min ahead of the others but behind c's own newest, within the lateness: late, kept
    assert [(r.source, r.partition, r.offset) for r in rejected] == [("metrics", 2, 160)]
    assert rejected[0].error.startswith("late: ts ")
    assert "metrics[2] producer host=a" in rejected[0].error
    assert rejected[0].value == values[60]
    counts = task.intake.marks.counts
    assert (counts["too_late"], counts["late"]) == (1, 1)
    assert task.position.next_offset == 163


def test_too_late_dead_letters_of_a_batch_record_point_at_its_record() -> None:
    task = ContextTask(InputKind.METRICS, "metrics", 4, Position())
    first = orjson.dumps([orjson.loads(_host_metric("a", T0 + 900)), {"name": ""}])
    late = orjson.dumps(
        [orjson.loads(_host_metric("a", T0 + 910)), orjson.loads(_host_metric("a", T0))]
    )
    events, rejected = task.process([Rec(7, first), Rec(8, b"{oops"), Rec(9, late)], clock=T0)
    assert [e.ts for e in events] == [T0 + 900, T0 + 910]
    late_flags = [(r.offset, r.error.startswith("late:")) for r in rejected]
    assert late_flags == [(7, False), (8, False), (9, True)]
    assert rejected[2].value == late  # the record (embedded: the line) the event came from
    assert task.position.watermark == T0 + 910


def test_event_time_survives_a_snapshot_and_a_version_1_snapshot_starts_at_its_watermark() -> None:
    task = _detect_task()
    task.process([Rec(i, v) for i, v in enumerate(_three_hosts(10))], clock=T0)
    snap = orjson.loads(orjson.dumps(task.snapshot()))
    assert snap["version"] == SNAPSHOT_VERSION == 3
    restored = intake_from(snap, "metrics", 2, IntakeStage())
    assert restored.state == task.intake.state
    old = {k: v for k, v in snap.items() if k != "intake"} | {"version": 1}
    fresh = intake_from(old, "metrics", 2, IntakeStage())
    assert fresh.marks.sources == {"metrics[2]": [T0 + 540, 0.0, 0.0]}
    assert fresh.marks.producers == {}
    assert intake_from(None, "metrics", 2, IntakeStage()).marks.sources == {}
    # after the old snapshot, a host's first point behind the saved watermark is late (kept),
    # and the published watermark never steps back
    again = _detect_task()
    again.position, again.intake = position_from(old), fresh
    _, rejected = again.process([Rec(30, _host_metric("a", T0 + 60))], clock=T0 + 5)
    assert rejected == []
    assert fresh.marks.counts["late"] == 1
    assert again.position.watermark == T0 + 540


def test_a_version_2_snapshot_written_by_main_restores_and_continues_like_a_fresh_one() -> None:
    """``data/detect_snapshot_v2_main_f3864bd.json``: a detect task's snapshot written by main
    at f3864bd (``_three_hosts(10)`` processed), before the intake was a stage: its ``marks``
    become the intake's, its detect state restores, and the task goes on exactly as a task of
    this version that processed the same records (the guard learns its series afresh)."""
    snap = orjson.loads((Path(__file__).parent / "data/detect_snapshot_v2_main_f3864bd.json")
                        .read_bytes())
    assert (snap["version"], "marks" in snap, "intake" in snap) == (2, True, False)
    old = _detect_task()
    old.state, old.position = old.stage.restore_state(snap["state"]), position_from(snap)
    old.intake = intake_from(snap, "metrics", 2, IntakeStage())
    new = _detect_task()
    new.process([Rec(i, v) for i, v in enumerate(_three_hosts(10))], clock=T0)
    assert old.intake.marks == new.intake.marks
    assert old.intake.state.series.live == {}
    more = [Rec(30 + i, v) for i, v in enumerate(_three_hosts(40)[30:])]
    from_old, old_rejected = old.process(more, clock=T0 + 5)
    from_new = new.process(more, clock=T0 + 5)
    # the old snapshot has no telemetry part: its hosts are marked again (to no effect)
    assert ([a for a in from_old if not is_telemetry(a)], old_rejected) == from_new
    assert old.position == new.position
    assert old.state.to_dict() == new.state.to_dict()
    assert old.intake.state.series.live.keys() <= new.intake.state.series.live.keys()


def test_envelope_round_trips_scope_events() -> None:
    anomaly = Anomaly(
        "an-1",
        T0,
        AnomalyKind.METRIC,
        "a",
        {"name": "lat", "labels": {}},
        0.99,
        Severity.CRITICAL,
        {"value": 9.0},
        {"service": "a", "cluster": "eu-1"},
    )
    alert = Alert(T0, "High", AlertStatus.FIRING, Severity.ERROR, "fp1", {"cluster": "eu-1"})
    change = Change(T0, "deploy", "a", "2.0", "rollout", {"cluster": "eu-2"})
    for event in (anomaly, alert, change):
        assert envelope.decode(envelope.encode(event)) == event
    assert envelope.scope_of(anomaly.labels) == b"eu-1"
    assert envelope.scope_of({}) == b""


def test_incident_task_rejects_foreign_records_and_applies_topology_once() -> None:
    stage = Pipeline.from_rules(RuleSet()).incident
    task = IncidentTask(stage, "vigil.incident-in", 0, stage.initial_state(), Position())
    _, rejected = task.process([Rec(0, b'{"t": "nope", "v": {}}'), Rec(1, b"[]")], [])
    assert [r.offset for r in rejected] == [0, 1]
    assert task.position.next_offset == 2
    assert task.position.topology_offset == 0


MIXED_VALUES = [
    _metric(0, 1.5),
    b'{"name": "lat", "value": 2, "labels": {"host": "h"}}',  # no ts: the record time
    b'{"name": "lat", "value": "high"}',
    # metric shapes next to the decoder's shortcut: each must decode as decode_record does
    b'{"ts": 1764115200.5, "name": "lat", "value": 1.5, "labels": {"a": "b"}, "extra": 1}',
    b'{"ts": 1764115200, "name": "lat", "value": 1.5, "labels": {"a": "b"}}',
    b'{"ts": 1764115200000.0, "name": "lat", "value": 1.5, "labels": {}}',
    b'{"ts": -1.0, "name": "lat", "value": 1.5, "labels": {}}',
    b'{"ts": "2025-11-26T00:00:00Z", "name": "lat", "value": 1.5, "labels": {}}',
    b'{"ts": 1764115200.5, "name": "", "value": 1.5, "labels": {}}',
    b'{"ts": 1764115200.5, "name": 7, "value": 1.5, "labels": {}}',
    b'{"ts": 1764115200.5, "name": "lat", "value": 3, "labels": {}}',
    b'{"ts": 1764115200.5, "name": "lat", "value": true, "labels": {}}',
    b'{"ts": 1764115200.5, "name": "lat", "value": 1e400, "labels": {}}',
    b'{"ts": 1764115200.5, "name": "lat", "value": 1.5, "labels": {"a": 1}}',
    b'{"ts": 1764115200.5, "name": "lat", "value": 1.5, "labels": null}',
    b'{"ts": 1764115200.5, "name": "lat", "value": 1.5, "labels": ["a"]}',
    b'{"ts": 1764115200.5, "name": "lat", "value": 1.5}',
    b'{"ts": null, "name": "lat", "value": 1.5, "labels": {"a": "b"}}',
    b'[{"ts": 1764115200.5, "name": "lat", "value": 1.5, "labels": {"a": "b"}}, [1], "x", 3,'
    b' {"ts": 1764115200, "name": "lat", "value": 2, "labels": {}}, {"name": ""}, [], null]',
    b"[]",
    b"[[]]",
    b'{"ts": 1, "message": "disk full", "level": "warning"}',
    b'{"model": "m", "id": "p1", "prediction": 1, "ts": 1}',
    b'[{"name": "lat", "value": 1}, {"name": "lat"}]',
    b'"plain text"',
    b"not json at all",
    b"\xff\xfe",
    b"{}",
]


def test_decode_batch_equals_decode_record_for_every_detect_kind() -> None:
    kinds = (InputKind.METRICS, InputKind.LOGS, InputKind.PREDICTIONS, InputKind.LABELS)
    for kind in kinds:
        recs = [Rec(100 + i, v) for i, v in enumerate(MIXED_VALUES)]
        events, rejected = decode_batch(kind, "t", 3, recs)
        expected = [
            e
            for r in recs
            for e in decode_record(kind, r.value or b"", Origin("t", 3, r.offset, T0))
        ]
        assert events == [e for e in expected if not isinstance(e, Rejected)], kind
        assert rejected == [e for e in expected if isinstance(e, Rejected)], kind
