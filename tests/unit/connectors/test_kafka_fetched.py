"""Raw fetched records: an opted-in consumer's batches yield aiokafka's own record objects,
every other consumer still gets ``ConsumerRecord`` (real aiokafka batches, no broker)."""

from __future__ import annotations

from aiokafka.consumer.fetcher import PartitionRecords
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from aiokafka.record.memory_records import MemoryRecords
from aiokafka.structs import ConsumerRecord, TopicPartition

from connectors.kafka.fetched import install, raw_value
from connectors.kafka.tasks import DetectTask, Position
from engine.events import InputKind
from engine.pipeline import Pipeline
from engine.rules import RuleSet

TP = TopicPartition("metrics", 1)
VALUES = [b'{"ts": 1764115200.0, "name": "lat", "value": 1.5, "labels": {"a": "b"}}', None]


def _records(deserializer: object) -> list[object]:
    builder = DefaultRecordBatchBuilder(2, 0, 0, -1, -1, -1, 1 << 20)
    for offset, value in enumerate(VALUES):
        builder.append(offset, 1_764_115_200_000 + offset, b"k", value, [])
    batch = MemoryRecords(bytes(builder.build()))
    records = PartitionRecords(TP, batch, [], 0, None, deserializer, True, 0)
    return list(records)


def test_opted_in_consumer_reads_the_batch_records_with_the_fields_a_task_needs() -> None:
    assert install()
    assert install()  # idempotent
    raw, plain = _records(raw_value), _records(None)
    assert all(type(r) is ConsumerRecord for r in plain)
    assert not any(type(r) is ConsumerRecord for r in raw)
    fields = [(r.offset, r.timestamp, r.value) for r in raw]  # type: ignore[attr-defined]
    assert fields == [(r.offset, r.timestamp, r.value) for r in plain]  # type: ignore[attr-defined]
    stage = Pipeline.from_rules(RuleSet()).detect
    outcomes = []
    for records in (raw, plain):
        task = DetectTask(stage, InputKind.METRICS, "metrics", 1, stage.initial_state(), Position())
        _, rejected = task.process(records, clock=0.0)  # type: ignore[arg-type]
        outcomes.append((task.position, [(r.offset, r.error) for r in rejected]))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0].next_offset == 2
    assert outcomes[0][1] == [(1, "value: empty record")]
