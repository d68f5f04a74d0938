"""The input journal and its codec: what was acknowledged comes back, a torn write does not."""

from __future__ import annotations

import asyncio
from pathlib import Path

from connectors.serve.codec import decode_event, encode_event
from connectors.serve.journal import InputJournal, JournalIngest
from engine.events import (
    Alert,
    AlertStatus,
    Change,
    GroundTruth,
    Level,
    LogRecord,
    MetricPoint,
    Prediction,
    Rejected,
    Severity,
    TopologyEdge,
    TopologyMode,
    TopologyNode,
    TopologyUpdate,
)

EVENTS = [
    MetricPoint(1.0, "cpu", 0.5, {"service": "a"}),
    LogRecord(2.0, "disk full", Level.ERROR, {"host": "h1"}),
    Prediction(3.0, "fraud", "p-1", {"amount": 3.5, "country": "fr"}, 1, 0.9, "v2", {"m": "x"}),
    GroundTruth(4.0, "fraud", "p-1", 0),
    Alert(5.0, "HighErrorRate", AlertStatus.FIRING, Severity.CRITICAL, "f1", {"service": "a"},
          {"summary": "s"}, 5.0, None, "http://prometheus"),
    Change(6.0, "deploy", "a", "1.2.3", "rollout", {"team": "t"}),
    TopologyUpdate(7.0, TopologyMode.REPLACE, (TopologyNode("a"), TopologyNode("db", "database")),
                   (TopologyEdge("a", "db"),)),
    Rejected("http:metrics", "value: required", b'{"name":"x"}\xff', None, 3),
]


def test_every_input_kind_and_dead_letter_round_trips_through_the_codec() -> None:
    assert [decode_event(encode_event(e)) for e in EVENTS] == EVENTS


def test_appended_records_are_read_back_in_order_with_their_end_offsets(tmp_path: Path) -> None:
    times = iter([100.0, 90.0, 120.0])  # the wall clock steps back once: ``at`` does not
    journal = InputJournal(tmp_path, wall_clock=lambda: next(times))
    first = journal.append(EVENTS[:2])
    journal.append([])
    journal.append(EVENTS[2:])
    records = journal.read(0)
    assert [r.at for r in records] == [100.0, 100.0, 120.0]
    assert records[0].end == first
    assert [decode_event(e) for r in records for e in r.events] == EVENTS
    assert [r.at for r in journal.read(first)] == [100.0, 120.0]


def test_a_record_cut_short_by_a_crash_is_dropped_at_open(tmp_path: Path) -> None:
    journal = InputJournal(tmp_path)
    end = journal.append(EVENTS[:1])
    journal.close()
    segment = next(tmp_path.iterdir())
    with segment.open("ab") as handle:
        handle.write(b'{"at": 1.0, "events": [{"t": "met')  # never acknowledged
    reopened = InputJournal(tmp_path)
    assert reopened.end == end
    assert len(reopened.read(0)) == 1
    assert reopened.append(EVENTS[1:2]) > end
    assert [len(r.events) for r in reopened.read(0)] == [1, 1]


def test_segments_a_checkpoint_covers_are_deleted_and_the_rest_still_read(tmp_path: Path) -> None:
    journal = InputJournal(tmp_path, segment_bytes=200)
    ends = [journal.append([event]) for event in EVENTS]
    assert len(list(tmp_path.iterdir())) > 2
    journal.release(ends[4])
    kept = InputJournal(tmp_path)  # as after a restart
    events = [decode_event(e) for r in _all(kept, ends[4]) for e in r.events]
    assert events == EVENTS[5:]
    assert len(list(tmp_path.iterdir())) < len(EVENTS)


def _all(journal: InputJournal, offset: int) -> list:  # type: ignore[type-arg]
    out = []
    while records := journal.read(offset):
        out.extend(records)
        offset = records[-1].end
    return out


def test_ingest_refuses_when_the_runtime_is_too_far_behind_or_shutting_down(
    tmp_path: Path,
) -> None:
    ingest = JournalIngest(InputJournal(tmp_path), max_backlog_bytes=10)
    assert asyncio.run(ingest(EVENTS[:1]))
    assert not asyncio.run(ingest(EVENTS[:1]))  # more than 10 bytes not yet processed
    ingest.consumed = ingest.journal.end
    assert asyncio.run(ingest(EVENTS[:1]))
    ingest.consumed, ingest.closed = ingest.journal.end, True
    assert not asyncio.run(ingest(EVENTS[:1]))


def test_batches_arriving_together_are_written_as_one_record_and_all_acknowledged(
    tmp_path: Path,
) -> None:
    ingest = JournalIngest(InputJournal(tmp_path))

    async def send_three() -> list[bool]:
        return list(await asyncio.gather(*(ingest([event]) for event in EVENTS[:3])))

    assert asyncio.run(send_three()) == [True, True, True]
    records = ingest.journal.read(0)
    assert [[decode_event(e) for e in r.events] for r in records] == [EVENTS[:3]]


def test_reads_are_bounded_but_a_record_larger_than_the_bound_still_comes_whole(
    tmp_path: Path,
) -> None:
    journal = InputJournal(tmp_path)
    ends = [journal.append([event]) for event in EVENTS]
    first = journal.read(0, max_bytes=10)  # smaller than any record
    assert [r.end for r in first] == ends[:1]
    some = journal.read(ends[0], max_bytes=ends[3] - ends[0])
    assert [r.end for r in some] == ends[1:4]
    assert [r.end for r in _all(journal, 0)] == ends
