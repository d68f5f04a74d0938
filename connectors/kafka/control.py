"""Silences and acknowledgements shared by all workers: the compacted ``vigil.silences`` topic.

Two record kinds live on that one-partition compacted topic (``Topics.silences``):

* a **silence**, keyed by its id: ``{"kind": "silence", "id", "matchers", "starts_at",
  "ends_at", "created_by", "comment"}``. Expiring one writes it again with an earlier
  ``ends_at`` under the same key, so compaction keeps the latest version;
* an **acknowledgement**, keyed ``ack:<incident id>``: ``{"kind": "ack", "incident", "by",
  "at", "comment"}`` (the latest one per incident).

A record with a null value (a tombstone) forgets its key. ``SharedControl`` is every worker's
copy: it reads the topic fully at start and follows it (``connectors.kafka.follower``), serves
the HTTP API's silences endpoints (``connectors.http.silences.SilenceStore``: a write is
answered once the broker acknowledged it, and is visible at once on the worker that made it),
and hands the dispatcher the silences that mute actions.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

import orjson
from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaError

from connectors.console.recorder import Acknowledgement
from connectors.errors import ConnectorError
from connectors.http.silences import SilenceRequest, silence_wire
from engine.act.silence import Silence
from engine.events import JsonDict

log = logging.getLogger("vigil.control")

ACK_PREFIX: Final = "ack:"
Send = Callable[[bytes, bytes], Awaitable[None]]
"""``(key, value)`` -> produced and acknowledged by the broker (raises ``KafkaError``)."""
OnAck = Callable[[Acknowledgement], None]


def silence_record(silence: Silence) -> tuple[bytes, bytes]:
    """The ``(key, value)`` of a silence record.

    >>> s = Silence.create(["service=db"], starts_at=0.0, ends_at=60.0)
    >>> key, value = silence_record(s)
    >>> key == s.id.encode(), read_record(key, value) == s
    (True, True)
    """
    return silence.id.encode(), orjson.dumps({"kind": "silence", **silence.to_dict()})


def ack_record(ack: Acknowledgement) -> tuple[bytes, bytes]:
    """The ``(key, value)`` of an acknowledgement record.

    >>> key, value = ack_record(Acknowledgement("inc-1", "ana", 5.0, "on it"))
    >>> key, read_record(key, value)
    (b'ack:inc-1', Acknowledgement(incident='inc-1', by='ana', at=5.0, comment='on it'))
    """
    body = {"kind": "ack", "incident": ack.incident, **ack.to_wire()}
    return (ACK_PREFIX + ack.incident).encode(), orjson.dumps(body)


def read_record(key: bytes | None, value: bytes | None) -> Silence | Acknowledgement | None:
    """What a record holds; ``None`` for a tombstone or a record that is neither kind."""
    if value is None:
        return None
    try:
        data = orjson.loads(value)
        if data.get("kind") == "silence":
            return Silence.from_dict(data)
        if data.get("kind") == "ack":
            by, comment = str(data["by"]), str(data.get("comment", ""))
            return Acknowledgement(str(data["incident"]), by, float(data["at"]), comment)
    except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
        pass
    return None


class SharedControl:
    """This worker's copy of the shared silences and acknowledgements (module docstring)."""

    def __init__(self, send: Send, on_ack: OnAck | None = None) -> None:
        self.send, self.on_ack = send, on_ack
        self.silences: dict[str, Silence] = {}
        self.acks: dict[str, Acknowledgement] = {}
        self._lock = threading.Lock()

    def apply_records(self, topic: str, records: Sequence[ConsumerRecord]) -> None:
        """Follower callback: take every record of a batch, in order."""
        for record in records:
            key = record.key.decode(errors="replace") if record.key else ""
            found = read_record(record.key, record.value)
            if found is None and record.value is not None:
                log.warning(
                    "control record skipped %s[%d]@%d", topic, record.partition, record.offset
                )
            self._apply(key, found)

    def _apply(self, key: str, found: Silence | Acknowledgement | None) -> None:
        if isinstance(found, Acknowledgement):
            self._take_ack(found)
            return
        with self._lock:
            if isinstance(found, Silence):
                self.silences[found.id] = found
            elif key.startswith(ACK_PREFIX):
                self.acks.pop(key[len(ACK_PREFIX) :], None)
            else:
                self.silences.pop(key, None)

    def _take_ack(self, ack: Acknowledgement) -> None:
        with self._lock:
            if self.acks.get(ack.incident) == ack:
                return  # already known: our own write coming back, or a re-read
            self.acks[ack.incident] = ack
        if self.on_ack is not None:
            self.on_ack(ack)

    def active(self) -> list[Silence]:
        """Every known silence (the dispatcher checks the time window itself)."""
        with self._lock:
            return list(self.silences.values())

    # The HTTP API's SilenceStore port (connectors.http.silences)

    def list_silences(self, now: float) -> list[JsonDict]:
        with self._lock:
            known = sorted(self.silences.items())
        return [silence_wire(s, now) for _, s in known]

    async def add_silence(self, request: SilenceRequest) -> JsonDict:
        silence = Silence.create(
            request.matchers,
            starts_at=request.starts_at,
            ends_at=request.ends_at,
            created_by=request.created_by,
            comment=request.comment,
        )
        await self._write(*silence_record(silence))
        self._apply(silence.id, silence)
        return silence_wire(silence, request.starts_at)

    async def expire_silence(self, silence_id: str, now: float) -> bool:
        with self._lock:
            known = self.silences.get(silence_id)
        if known is None:
            return False
        ended = known.expired_at(now)
        await self._write(*silence_record(ended))
        self._apply(silence_id, ended)
        return True

    async def acknowledge(self, ack: Acknowledgement) -> None:
        """Persist an acknowledgement (``ConnectorError`` if the broker refused)."""
        await self._write(*ack_record(ack))
        with self._lock:  # the caller shows it itself: ``on_ack`` is for other workers' acks
            self.acks[ack.incident] = ack

    async def _write(self, key: bytes, value: bytes) -> None:
        try:
            await self.send(key, value)
        except KafkaError as exc:
            raise ConnectorError(f"silences topic write failed: {exc}") from None
