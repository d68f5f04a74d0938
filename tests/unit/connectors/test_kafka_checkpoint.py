"""Checkpoint order (flush -> state -> offsets) and the checkpoint stores, without a broker."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiokafka import TopicPartition

from connectors.checkpoint.file import FileCheckpointStore
from connectors.checkpoint.memory import MemoryCheckpointStore
from connectors.kafka.commit import write_checkpoint

TP = TopicPartition("metrics", 0)


class JournalSink:
    """A sink port that records when it is flushed (and can be told to fail)."""

    def __init__(self, journal: list[str], fail: bool = False) -> None:
        self.journal, self.fail = journal, fail

    async def flush(self) -> None:
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
    await write_checkpoint(JournalSink(journal), store, committer, {"g/metrics/0": snap}, {TP: 42})
    assert journal == ["flush", "state", "offsets"]
    assert await store.load(["g/metrics/0"]) == {"g/metrics/0": snap}
    assert committer.committed == {TP: 42}


async def test_failed_flush_writes_no_state_and_commits_no_offsets() -> None:
    journal: list[str] = []
    store, committer = JournalStore(journal), JournalCommitter(journal)
    with pytest.raises(ConnectionError):
        await write_checkpoint(
            JournalSink(journal, fail=True), store, committer, {"k": {"offset": 1}}, {TP: 1}
        )
    assert journal == []
    assert await store.load(["k"]) == {}


async def test_memory_store_keeps_a_copy_not_the_live_state() -> None:
    store = MemoryCheckpointStore()
    live = {"offset": 3, "state": {"series": {"a": [1, 2.0, 0.5]}}}
    await store.save({"k": live})
    live["state"]["series"]["a"][0] = 99
    assert (await store.load(["k", "missing"])) == {"k": {"offset": 3, "state": {"series": {"a": [1, 2.0, 0.5]}}}}


async def test_file_store_survives_a_new_instance_and_last_write_wins(tmp_path: Path) -> None:
    await FileCheckpointStore(tmp_path).save({"g/t.metrics/0": {"offset": 1}})
    await FileCheckpointStore(tmp_path).save({"g/t.metrics/0": {"offset": 7}})
    assert await FileCheckpointStore(tmp_path).load(["g/t.metrics/0"]) == {
        "g/t.metrics/0": {"offset": 7}
    }
    assert not list(tmp_path.glob("*.tmp"))
