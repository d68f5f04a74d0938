"""Watermark propagation from the detect/context partitions to the incident stage.

The incident stage reads ``vigil.incident-in``, where anomalies, alerts and changes from every
upstream partition interleave arbitrarily (and differently after a crash). To process them in
event time it needs to know how far every upstream partition has got:

* after its batches, each detect/context task's watermark (its partition's robust event time,
  ``connectors.kafka.partition.PartitionIntake``: a host running ahead does not move it) goes out
  as a small envelope record ``{"t": "wm", "src": "topic/partition", "ts": ..., "idle":
  false}`` to **every** partition of ``incident-in``, at most every
  ``WATERMARK_INTERVAL_S`` per source (this bounds the traffic; the tail is sent by ``step``'s
  next call even when no records arrive);
* a partition that has had no new record for ``runtime.idle_source`` of *healthy* processing
  time says so (``"idle": true``) and stops holding the incident stage back; its next record
  makes it active again (as does a fetch showing records waiting for it). Idle time counts
  only while the broker keeps confirming that nothing waits past the partition's position
  (``FetchProbe``: a fetch response for it within ``FETCH_FRESH_S`` whose high watermark the
  task has reached), as Flink counts idleness only while a split is readable. While the
  broker is unreachable or the group rebalances no fetch answers, so no source goes idle and
  the stage does not move past events still in the broker (a broker restart would otherwise
  release the held events and make the tail late). A *dead* worker's partitions send
  nothing, so they keep holding it back until their new owner catches up: that is what keeps
  a SIGKILL from reordering anything;
* a newly assigned partition is registered at once (``WatermarkPublisher.register``): active
  at its restored watermark (or ``NO_TIME``) when records wait past its offset, else idle;
* the incident task keeps the newest mark per source in its snapshot; its ``now`` is
  ``stage_time``: ``NO_TIME`` until every upstream partition (``Worker.upstream``, asked of
  the broker at start) has reported, then the minimum over active sources minus
  ``runtime.incident_hold_s`` (and 1 ms, as Flink's bounded-out-of-orderness watermarks do:
  events *at* a partition's newest ts may still follow), or the newest mark when every source
  is idle (the input is over).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from connectors.kafka import envelope
from engine.events import EventTime

if TYPE_CHECKING:
    from connectors.kafka.tasks import Position

log = logging.getLogger("vigil.watermarks")

WATERMARK_INTERVAL_S: Final = 0.2
"""At most one watermark record per source and incident-in partition per this many seconds."""
WATERMARK_EPSILON_S: Final = 0.001
NO_TIME: Final = 0.0
"""The incident stage's ``now`` before any source has reported (releases nothing)."""
FETCH_FRESH_S: Final = 1.0
"""A fetch response older than this does not confirm a partition is caught up (the consumer
long-polls every ``fetch_max_wait_ms``, so a healthy one answers many times a second)."""


class Fetched(enum.Enum):
    """What the consumer's latest fetch says about a source, as ``FetchProbe`` reads it."""

    CAUGHT_UP = "caught_up"
    """A fresh response, and the task has read to its end: quiet time counts."""
    WAITING = "waiting"
    """A fresh response with records past the task's position: not idle, whatever the clock."""
    UNKNOWN = "unknown"
    """No fresh response (broker unreachable, rebalancing, not fetched yet): time stands still."""


Probe = Callable[[str, "Position"], Fetched]
"""``(topic/partition, position) -> Fetched``."""


def stage_time(
    sources: dict[str, list[float]], hold_s: float, expected: Iterable[str] = ()
) -> EventTime:
    """The incident stage's event time from ``{source: [watermark, idle (0/1)]}``;
    ``NO_TIME`` until every ``expected`` source has reported (registered, active or idle).

    >>> stage_time({"metrics/0": [1000.0, 0], "metrics/1": [900.0, 0]}, 60.0)
    839.999
    >>> stage_time({"metrics/0": [1000.0, 0], "metrics/1": [900.0, 1]}, 60.0)
    939.999
    >>> stage_time({"metrics/0": [1000.0, 1], "metrics/1": [900.0, 1]}, 60.0)
    1000.0
    >>> stage_time({"metrics/0": [1000.0, 0]}, 60.0, expected=["metrics/0", "metrics/1"])
    0.0
    """
    if not sources or any(src not in sources for src in expected):
        return NO_TIME
    active = [mark for mark, idle in sources.values() if not idle]
    if active:
        return min(active) - hold_s - WATERMARK_EPSILON_S
    return max(mark for mark, _ in sources.values())


def observe_mark(sources: dict[str, list[float]], mark: envelope.Watermark) -> None:
    """Keep the newest watermark per source (a re-delivered older one never moves it back) and
    the idle flag of its latest record."""
    seen = sources.get(mark.src)
    ts = mark.ts if seen is None else max(seen[0], mark.ts)
    sources[mark.src] = [ts, 1.0 if mark.idle else 0.0]


class FetchProbe:
    """What the consumer's latest fetch says about a source (``Fetched``).

    Reads aiokafka's per-partition fetch bookkeeping (``last_poll_timestamp``: wall-clock ms of
    the last fetch response for the partition, ``highwater``: its end offset then). Without a
    response within ``fresh_s``, or with the partition not assigned (rebalancing), it is
    ``UNKNOWN``; else ``CAUGHT_UP`` when the task has read to that end (or has no offset yet),
    ``WAITING`` when records wait past it: a source that was idle turns active as soon as the
    broker reports new records for it, before they are read, so a partition resuming a moment
    after another does not find the stage already moved past it.
    """

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        fresh_s: float = FETCH_FRESH_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.consumer, self.fresh_s, self.clock = consumer, fresh_s, clock

    def __call__(self, src: str, position: Position) -> Fetched:
        topic, _, partition = src.rpartition("/")
        tp = TopicPartition(topic, int(partition))
        try:
            polled_ms = self.consumer.last_poll_timestamp(tp)
            end = self.consumer.highwater(tp)
        except (AssertionError, AttributeError, KeyError):  # not assigned now: rebalancing
            return Fetched.UNKNOWN
        if polled_ms is None or self.clock() - polled_ms / 1000.0 > self.fresh_s:
            return Fetched.UNKNOWN
        if position.next_offset is None or end is None or position.next_offset >= end:
            return Fetched.CAUGHT_UP
        return Fetched.WAITING


def _always(_: str, __: Position) -> Fetched:
    return Fetched.CAUGHT_UP


@dataclass(slots=True)
class _Sent:
    offset: int | None
    checked_at_s: float
    quiet_s: float = 0.0
    """Healthy processing time since the offset last moved (only counted while probed ok)."""
    ts: float = NO_TIME
    idle: bool = False
    sent_at_s: float = float("-inf")


@dataclass(slots=True)
class WatermarkPublisher:
    """Sends each source task's watermark to every partition of the incident-in topic.

    ``probe`` tells whether a source's quiet time counts towards idleness (``FetchProbe`` in a
    worker; by default always, i.e. plain processing time).
    """

    producer: AIOKafkaProducer
    topic: str
    idle_s: float
    interval_s: float = WATERMARK_INTERVAL_S
    probe: Probe = _always
    _sent: dict[str, _Sent] = field(default_factory=dict)
    _partitions: list[int] = field(default_factory=list)
    _owned: set[str] = field(default_factory=set)
    _saved: dict[str, float] = field(default_factory=dict)
    """Watermark of each registered source as of its last written snapshot: the most a mark
    may say (``saved``)."""

    def saved(self, marks: Mapping[str, float]) -> None:
        """Snapshots of these sources (``{topic/partition: watermark}``) have been written.

        A mark never runs ahead of its source's saved state: after a crash the new owner
        re-reads the source from its snapshot, and an incident stage that had been told of
        the lost progress would have moved on and dead-lettered the re-read events as too late
        (they are re-deliveries). The stage lags by at most one checkpoint interval."""
        self._saved.update(marks)

    async def register(self, src: str, position: Position, waiting: bool, now_s: float) -> None:
        """Announce a newly assigned source at once: with records ``waiting`` it is active and
        holds the stage at its (restored) watermark, or before any time when it has none;
        without, it is idle until its next record. Sent before the source's first batch, so
        no incident task moves past a partition that has a backlog but has not reported yet."""
        idle = not waiting
        quiet_s = self.idle_s if idle else 0.0
        self._sent[src] = _Sent(
            position.next_offset, now_s, quiet_s, position.watermark, idle, now_s
        )
        self._owned.add(src)
        self._saved[src] = position.watermark  # restored from its snapshot (or none)
        await self._send([envelope.Watermark(src, position.watermark, idle)])

    async def publish(self, sources: Iterable[tuple[str, Position]], now_s: float) -> int:
        """Send the marks that are due (``now_s``: monotonic seconds); returns how many.

        ``sources``: ``(topic/partition, position)`` of every detect/context task owned.
        """
        owned = dict(sources)
        for src in owned.keys() - self._owned:  # (re)assigned: quiet time starts now
            self._sent.pop(src, None)
        self._owned = set(owned)
        due = [m for src, pos in owned.items() if (m := self._due(src, pos, now_s)) is not None]
        if due:
            await self._send(due)
        return len(due)

    async def _send(self, marks: list[envelope.Watermark]) -> None:
        if not self._partitions:
            self._partitions = sorted(await self.producer.partitions_for(self.topic))
        for mark in marks:
            value = envelope.encode_watermark(mark)
            for partition in self._partitions:
                sent = await self.producer.send(self.topic, value, partition=partition)
                sent.add_done_callback(_log_failure)

    def _due(self, src: str, position: Position, now_s: float) -> envelope.Watermark | None:
        sent = self._sent.setdefault(src, _Sent(position.next_offset, now_s))
        fetched = self.probe(src, position)
        if position.next_offset != sent.offset or fetched is Fetched.WAITING:
            sent.offset, sent.quiet_s = position.next_offset, 0.0
        elif fetched is Fetched.CAUGHT_UP:
            sent.quiet_s += now_s - sent.checked_at_s
        sent.checked_at_s = now_s
        idle = sent.quiet_s >= self.idle_s
        if idle != sent.idle:
            log.debug(
                "source %s src=%s quiet_s=%.1f", "idle" if idle else "active", src, sent.quiet_s
            )
        ts = min(position.watermark, self._saved.get(src, position.watermark))
        if (ts, idle) == (sent.ts, sent.idle):
            return None
        if idle == sent.idle and now_s - sent.sent_at_s < self.interval_s:
            return None
        sent.ts, sent.idle, sent.sent_at_s = ts, idle, now_s
        return envelope.Watermark(src, ts, idle)


def _log_failure(sent: asyncio.Future[object]) -> None:
    if not sent.cancelled() and (exc := sent.exception()) is not None:
        log.warning("watermark send failed reason=%s", exc)
