"""The ``actions`` topic read as an outbox: records to actions, what is pending and finished.

``connectors.kafka.dispatch.ActionDispatcher`` consumes the topic and delivers through
``TopicOutbox`` (the ``connectors.outbox`` port over the topic).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Final

import orjson
from aiokafka import TopicPartition

from connectors.outbox import Entry
from engine.events import Action

MAX_REMEMBERED: Final = 200_000


def action_from_record(value: bytes | None) -> Action | None:
    """The action in an ``actions`` record; ``None`` if the record is not one.

    >>> raw = b'{"id": "act-1", "ts": 5, "incident": "inc-1", "receiver": "pd", "type": "x",'
    >>> raw += b' "dedup_key": "inc-1", "status": "decided", "attempts": 0, "payload": {"a": 1}}'
    >>> action_from_record(raw).payload, action_from_record(b"[1]")
    ({'a': 1}, None)
    """
    try:
        return Action.from_wire(orjson.loads(value or b""))
    except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
        return None


class TopicOutbox:
    """The ``Outbox`` port over the actions topic: what is pending here, what is finished."""

    def __init__(self, finished: OrderedDict[str, None] | None = None) -> None:
        self.finished: OrderedDict[str, None] = OrderedDict() if finished is None else finished
        self.entries: dict[str, Entry] = {}
        self.where: dict[str, tuple[TopicPartition, int]] = {}
        self._seq = 0

    def mark_finished(self, action_id: str) -> None:
        self.finished[action_id] = None
        while len(self.finished) > MAX_REMEMBERED:
            self.finished.popitem(last=False)

    def put(self, actions: list[Action]) -> list[Entry]:
        fresh = []
        for action in actions:
            if action.id in self.finished or action.id in self.entries:
                continue
            self._seq += 1
            entry = Entry(self._seq, action)
            self.entries[action.id] = entry
            fresh.append(entry)
        return fresh

    def pending(self) -> list[Entry]:
        return sorted(self.entries.values(), key=lambda e: e.seq)

    def retry_later(self, entry: Entry) -> None:
        pass  # retries restart from the log after a restart; nothing to persist meanwhile

    def finish(self, entry: Entry, final: Action) -> None:
        self.entries.pop(entry.action.id, None)
        self.where.pop(entry.action.id, None)
        self.mark_finished(entry.action.id)

    def close(self) -> None:
        pass

    def lowest_pending(self) -> dict[TopicPartition, int]:
        """Per partition, the offset of the oldest decided record not finished yet."""
        out: dict[TopicPartition, int] = {}
        for tp, offset in self.where.values():
            out[tp] = min(offset, out.get(tp, offset))
        return out
