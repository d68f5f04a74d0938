"""Fetched records without aiokafka's per-record ``ConsumerRecord`` (the worker's input path).

aiokafka turns every record of a fetched batch into a ``ConsumerRecord`` (an 11-field
dataclass, with the key and value sizes and a headers tuple): about 0.5 us per record, ~4% of
a worker's time per single-point metric record. The worker reads three fields (``offset``,
``timestamp``, ``value``), which the batch's own record objects (aiokafka's C
``DefaultRecord``/``LegacyRecord``) already have.

A consumer opts in by passing ``value_deserializer=raw_value``. ``install`` (called when the
worker module is imported) wraps ``PartitionRecords._consumer_record`` so that, for such a
consumer only, the batch's record is returned as is; every other consumer in the process gets
its ``ConsumerRecord`` as before. ``raw_value`` is the identity, so if a future aiokafka has
no such method (``install`` returns ``False``), the opted-in consumer still gets correct
``ConsumerRecord`` objects, only without the saving.
"""

from __future__ import annotations

from typing import Any

from aiokafka.consumer import fetcher

_MARK = "_vigil_raw_records"


def raw_value(value: bytes | None) -> bytes | None:
    """The identity ``value_deserializer`` that marks a consumer as reading raw records."""
    return value


def install() -> bool:
    """Wrap aiokafka's record conversion once; ``False`` if this aiokafka has none to wrap."""
    cls = getattr(fetcher, "PartitionRecords", None)
    original = getattr(cls, "_consumer_record", None)
    if cls is None or original is None:
        return False
    if getattr(original, _MARK, False):
        return True

    def consumer_record(self: Any, tp: Any, record: Any) -> Any:
        if self._value_deserializer is raw_value:
            return record
        return original(self, tp, record)

    setattr(consumer_record, _MARK, True)
    cls._consumer_record = consumer_record
    return True
