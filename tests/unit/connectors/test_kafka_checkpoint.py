"""Checkpoint order (flush -> state -> offsets) and the checkpoint stores, without a broker."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest
from aiokafka import TopicPartition

from connectors.checkpoint import encode_snapshot
from connectors.checkpoint.file import FileCheckpointStore
from connectors.checkpoint.memory import MemoryCheckpointStore
from connectors.kafka.commit import BackgroundCheckpoint, write_checkpoint
from connectors.kafka.config import Topics, WorkerConfig
from connectors.kafka.sink import SentOutputs
from connectors.kafka.tasks import DetectTask, Position
from connectors.kafka.worker import Worker
from engine.events import InputKind
from engine.pipeline import Pipeline
from engine.rules import RuleSet

TP = TopicPartition("metrics", 0)


class JournalSink:
    """A sink port that records when it is flushed (and can be told to fail)."""

    def __init__(
        self, journal: list[str], fail: bool = False, gate: asyncio.Event | None = None
    ) -> None:
        self.journal, self.fail, self.gate = journal, fail, gate

    async def flush(self) -> None:
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise ConnectionError("broker gone")
        self.journal.append("flush")


class JournalStore(MemoryCheckpointStore):
    def __init__(self, journal: list[str]) -> None:
        super().__init__()
        self.events = journal

    async def save(self, snapshots):  # type: ignore[no-untyped-def]
        await super().save(snapshots)
        self.events.append("state")


class JournalCommitter:
    def __init__(self, journal: list[str]) -> None:
        self.journal = journal
        self.committed: dict[TopicPartition, int] = {}

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.committed.update(offsets)
        self.journal.append("offsets")


async def test_checkpoint_flushes_outputs_then_writes_state_then_commits_offsets() -> None:
    journal: list[str] = []
    store, committer = JournalStore(journal), JournalCommitter(journal)
    snap = {"offset": 42, "state": {"x": 1}}
    encoded = {"g/metrics/0": encode_snapshot(snap)}
    await write_checkpoint(JournalSink(journal), store, committer, encoded, {TP: 42})
    assert journal == ["flush", "state", "offsets"]
    assert await store.load(["g/metrics/0"]) == {"g/metrics/0": snap}
    assert committer.committed == {TP: 42}


async def test_failed_flush_writes_no_state_and_commits_no_offsets() -> None:
    journal: list[str] = []
    store, committer = JournalStore(journal), JournalCommitter(journal)
    with pytest.raises(ConnectionError):
        await write_checkpoint(
            JournalSink(journal, fail=True), store, committer, {"k": b'{"offset":1}'}, {TP: 1}
        )
    assert journal == []
    assert await store.load(["k"]) == {}


async def test_background_checkpoint_keeps_the_order_while_the_caller_goes_on() -> None:
    journal: list[str] = []
    gate = asyncio.Event()
    store, committer = JournalStore(journal), JournalCommitter(journal)
    background = BackgroundCheckpoint(store, committer, lambda keys: journal.append("done"))
    series: dict[str, list[float]] = {"a": [1, 2.0, 0.5]}
    live = {"offset": 3, "state": {"series": series}}
    encoded = {"g/metrics/0": encode_snapshot(live)}  # taken now: the state moves on
    assert background.start(JournalSink(journal, gate=gate), encoded, {TP: 3})
    series["a"][0] = 99  # the caller keeps processing meanwhile
    live["offset"] = 9
    await asyncio.sleep(0.01)
    assert background.busy
    assert journal == []
    assert not background.start(JournalSink(journal), {"g/metrics/0": b"{}"}, {TP: 9})
    gate.set()
    await background.settle()
    assert journal == ["flush", "state", "offsets", "done"]
    assert (await store.load(["g/metrics/0"])) == {
        "g/metrics/0": {"offset": 3, "state": {"series": {"a": [1, 2.0, 0.5]}}}
    }
    assert committer.committed == {TP: 3}
    assert not background.busy


class Rec:
    def __init__(self, offset: int, value: float) -> None:
        self.offset, self.timestamp = offset, 1_764_115_200_000
        point = {"ts": 1_764_115_200.0 + 60 * offset, "name": "lat", "value": value}
        self.value: bytes | None = orjson.dumps({**point, "labels": {"host": "a"}})


async def test_worker_snapshot_is_the_state_when_taken_not_when_written() -> None:
    """The worker encodes each snapshot between two batches; batches processed while the
    write waits for the outputs' acknowledgements do not leak into it."""
    journal: list[str] = []
    gate = asyncio.Event()
    pipeline, store = Pipeline.from_rules(RuleSet()), JournalStore(journal)
    cfg = WorkerConfig(bootstrap_servers="127.0.0.1:9", topics=Topics(), metrics_port=None)
    worker = Worker(cfg, pipeline, store)  # never started: no broker is contacted
    worker.checkpoints = BackgroundCheckpoint(store, JournalCommitter(journal))
    stage = pipeline.detect
    task = DetectTask(stage, InputKind.METRICS, "metrics", 0, stage.initial_state(), Position())
    task.process([Rec(i, 10.0 + i % 3) for i in range(50)], clock=0.0)
    worker.tasks[TP], worker.dirty = task, {TP}
    expected = orjson.loads(encode_snapshot(task.snapshot()))
    worker.sink._pending.append(asyncio.ensure_future(gate.wait()))  # an unacknowledged send
    worker._start_checkpoint()
    task.process([Rec(i, 10.0 + i % 5) for i in range(50, 80)], clock=0.0)  # processing goes on
    assert journal == []
    gate.set()
    await worker.checkpoints.settle()
    assert journal == ["state", "offsets"]
    saved = (await store.load([worker.key(TP)]))[worker.key(TP)]
    assert saved == expected
    assert saved["offset"] == 50
    assert saved != orjson.loads(encode_snapshot(task.snapshot()))


async def test_background_checkpoint_failure_is_raised_to_the_caller_and_writes_nothing() -> None:
    journal: list[str] = []
    store, committer = JournalStore(journal), JournalCommitter(journal)
    background = BackgroundCheckpoint(store, committer)
    assert background.start(JournalSink(journal, fail=True), {"k": b'{"offset":1}'}, {TP: 1})
    await asyncio.sleep(0.01)
    with pytest.raises(ConnectionError):
        background.check()
    assert journal == []
    assert committer.committed == {}
    assert await store.load(["k"]) == {}
    background.check()  # raised once


async def test_sent_outputs_wait_for_their_own_sends_only() -> None:
    loop = asyncio.get_running_loop()
    first: asyncio.Future[object] = loop.create_future()
    later: asyncio.Future[object] = loop.create_future()
    outputs = SentOutputs([first])
    first.set_result(None)
    await asyncio.wait_for(outputs.flush(), 1.0)  # `later` (a next batch's) never resolves
    assert not later.done()
    first_failed: asyncio.Future[object] = loop.create_future()
    first_failed.set_exception(ConnectionError("broker gone"))
    with pytest.raises(ConnectionError):
        await SentOutputs([first_failed]).flush()


async def test_memory_store_returns_the_encoded_snapshot() -> None:
    store = MemoryCheckpointStore()
    await store.save({"k": encode_snapshot({"offset": 3, "state": {"a": [1, 2.0]}})})
    assert (await store.load(["k", "missing"])) == {"k": {"offset": 3, "state": {"a": [1, 2.0]}}}


async def test_file_store_survives_a_new_instance_and_last_write_wins(tmp_path: Path) -> None:
    await FileCheckpointStore(tmp_path).save({"g/t.metrics/0": b'{"offset":1}'})
    await FileCheckpointStore(tmp_path).save({"g/t.metrics/0": b'{"offset":7}'})
    assert await FileCheckpointStore(tmp_path).load(["g/t.metrics/0"]) == {
        "g/t.metrics/0": {"offset": 7}
    }
    assert not list(tmp_path.glob("*.tmp"))
