"""Delivery in worker mode: the ``actions`` topic is the durable outbox.

The worker writes each decided action to ``actions`` (with its ``payload``, keyed by incident)
before it checkpoints, so a crash between deciding and sending loses nothing. The
``ActionDispatcher`` consumes ``actions`` in its own consumer group (``<group_id>.delivery``),
hands decided records to the shared ``connectors.delivery.Dispatcher`` (rate limits, breakers,
retries, in order per incident) and writes each outcome (``delivered``/``failed``/
``suppressed``) back to ``actions`` — as the wire contract says, that topic carries "every
action decided, with its delivery outcome" — so no extra topic is needed.

Exactly once per action id, across restarts:

* offsets are committed only up to the oldest action not yet finished (per partition), and only
  after the outcome records before it are acknowledged by the broker;
* on (re)assignment the dispatcher first reads each partition up to its end offset as of the
  assignment, collecting outcome records, and only then submits the decided ones that have no
  outcome (the id is the idempotency key). A restart therefore re-delivers nothing that was
  recorded as finished;
* the one window left is a crash after a receiver accepted an action but before its outcome
  reached the broker: that action is sent again on restart, with the same idempotency key
  (PagerDuty ``dedup_key``, the webhook's action id) so receivers can drop it.

A topic rather than a SQLite file per worker: the partitions of ``actions`` move between
workers with the consumer group, and the backlog of a dead worker is delivered by whoever takes
its partitions over; a local file would strand it on the dead worker's disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, Final

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError

from connectors.delivery import Dispatcher, Link, OnFinal
from connectors.kafka.action_log import TopicOutbox, action_from_record
from connectors.kafka.config import WorkerConfig
from connectors.retry import Backoff
from engine.act.silence import Silence
from engine.events import Action, ActionStatus

log = logging.getLogger("vigil.dispatch")

COMMIT_INTERVAL_S: Final = 1.0
STOP_GRACE_S: Final = 10.0


class _Tracked:
    """A notifier wrapper counting sends in flight (so a stop can let them finish)."""

    def __init__(self, inner: Any, counter: list[int]) -> None:
        self.inner, self.name, self.counter = inner, inner.name, counter

    async def send(self, action: Action) -> None:
        self.counter[0] += 1
        try:
            await self.inner.send(action)
        finally:
            self.counter[0] -= 1


class ActionDispatcher:
    """Consumes ``actions`` (own group), delivers decided ones, writes their outcomes back.

    ``run(stop)`` loops until ``stop`` is set, then lets deliveries in flight finish (up to
    ``STOP_GRACE_S``), writes their outcomes, commits and leaves the group.
    """

    def __init__(
        self,
        cfg: WorkerConfig,
        links: dict[str, Link],
        *,
        silences: Callable[[], Iterable[Silence]] = list,
        on_final: OnFinal | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.topic = cfg.topics.name("actions")
        self.backoff = backoff
        self.links, self.silences = links, silences
        self.in_flight = [0]
        for link in links.values():
            link.notifier = _Tracked(link.notifier, self.in_flight)
        self.on_final = on_final
        kwargs = {**cfg.client_kwargs(), "client_id": f"{cfg.client_id}-delivery"}
        self.consumer = AIOKafkaConsumer(
            group_id=cfg.delivery_group_id or f"{cfg.group_id}.delivery",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=cfg.session_timeout_ms,
            heartbeat_interval_ms=cfg.heartbeat_interval_ms,
            rebalance_timeout_ms=cfg.rebalance_timeout_ms,
            **kwargs,
        )
        self.producer = AIOKafkaProducer(acks="all", linger_ms=5, **kwargs)
        self.outbox = TopicOutbox()
        self.dispatcher = self._new_dispatcher()
        self.outgoing: list[Action] = []
        self.held: list[tuple[TopicPartition, int, Action]] = []
        self.consumed: dict[TopicPartition, int] = {}
        self.catchup: dict[TopicPartition, int] = {}
        self.fresh: set[TopicPartition] = set()
        self.workers: dict[str, asyncio.Task[None]] = {}
        self._last_commit = time.monotonic()

    def _new_dispatcher(self) -> Dispatcher:
        return Dispatcher(
            self.outbox, self.links, self._final, silences=self.silences, backoff=self.backoff
        )

    def _final(self, final: Action) -> None:
        self.outgoing.append(final)
        if self.on_final is not None:
            self.on_final(final)

    async def start(self) -> None:
        await self.producer.start()
        await self.consumer.start()
        self.consumer.subscribe([self.topic], listener=_Rebalance(self))

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                await self.step()
        finally:
            await self.close()

    async def step(self) -> None:
        batches = await self.consumer.getmany(timeout_ms=200, max_records=2000)
        for tp, records in batches.items():
            for record in records:
                self._read(tp, record.offset, record.value)
            self.consumed[tp] = records[-1].offset + 1
        if await self._caught_up():
            self._submit_held()
        self._start_workers()
        await self._publish_outcomes()
        if time.monotonic() - self._last_commit >= COMMIT_INTERVAL_S:
            await self._commit(self.consumer.assignment())

    def _read(self, tp: TopicPartition, offset: int, value: bytes | None) -> None:
        action = action_from_record(value)
        if action is None:
            log.warning(
                "actions record skipped (not an action) partition=%d offset=%d",
                tp.partition,
                offset,
            )
        elif action.status is not ActionStatus.DECIDED:
            self.outbox.mark_finished(action.id)
        else:
            self.held.append((tp, offset, action))

    async def _caught_up(self) -> bool:
        """Whether every partition was read up to its end offset as of its assignment."""
        if self.fresh:
            fresh, self.fresh = list(self.fresh), set()
            self.catchup.update(await self.consumer.end_offsets(fresh))
        for tp, end in list(self.catchup.items()):
            try:
                position = await self.consumer.position(tp)
            except IllegalStateError:  # revoked meanwhile
                position = end
            if position < end:
                return False
            del self.catchup[tp]
        return True

    def _submit_held(self) -> None:
        held, self.held = self.held, []
        for tp, offset, action in held:
            if action.id not in self.outbox.finished and action.id not in self.outbox.entries:
                self.outbox.where[action.id] = (tp, offset)
        self.dispatcher.submit([a for _, _, a in held])

    def _start_workers(self) -> None:
        for name, lanes in self.dispatcher.lanes.items():
            task = self.workers.get(name)
            if task is not None and task.done():
                task.result()  # a bug in delivery surfaces here
                task = None
            if lanes and task is None:
                self.workers[name] = asyncio.ensure_future(self.dispatcher.drain_receiver(name))

    async def _publish_outcomes(self) -> None:
        outgoing, self.outgoing = self.outgoing, []
        pending = [
            await self.producer.send(self.topic, orjson.dumps(a.to_wire()), key=a.incident.encode())
            for a in outgoing
        ]
        if pending:
            await asyncio.gather(*pending)

    async def _commit(self, partitions: Iterable[TopicPartition]) -> None:
        """Commit, per partition, the oldest unfinished (or held) offset, else what was read."""
        lowest = self.outbox.lowest_pending()
        for tp, offset, _ in self.held:
            lowest[tp] = min(offset, lowest.get(tp, offset))
        offsets = {
            tp: lowest.get(tp, self.consumed[tp]) for tp in partitions if tp in self.consumed
        }
        self._last_commit = time.monotonic()
        if not offsets:
            return
        try:
            await self.consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            log.warning("delivery offset commit skipped reason=%s", exc)

    async def _settle(self) -> None:
        """Stop starting deliveries, let those in flight finish, write outcomes, commit."""
        for task in self.workers.values():
            task.cancel()
        for task in self.workers.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.workers.clear()
        deadline = time.monotonic() + STOP_GRACE_S
        while self.in_flight[0] and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0)  # let finished attempts record their outcome
        await self._publish_outcomes()

    async def revoke(self, revoked: set[TopicPartition]) -> None:
        """Hand the revoked partitions over: settle, commit, keep only what is still ours."""
        await self._settle()
        await self._commit(revoked)
        for action_id, (tp, _) in list(self.outbox.where.items()):
            if tp in revoked:
                self.outbox.entries.pop(action_id, None)
                del self.outbox.where[action_id]
        self.held = [h for h in self.held if h[0] not in revoked]
        for tp in revoked:
            self.consumed.pop(tp, None)
            self.catchup.pop(tp, None)
        self.dispatcher = self._new_dispatcher()  # lanes rebuilt from what is still pending

    def backlog(self) -> int:
        return len(self.outbox.entries) + len(self.held)

    async def close(self) -> None:
        await self._settle()
        await self._commit(self.consumer.assignment())
        await self.consumer.stop()
        await self.producer.stop()


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]  # untyped base class
    def __init__(self, owner: ActionDispatcher) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.owner.revoke(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.owner.fresh |= set(assigned)
