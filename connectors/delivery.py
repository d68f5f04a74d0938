"""The dispatcher: outbox -> receivers, exactly once per action id and in order per incident.

Per receiver: a rate limiter (Slack 1/s, PagerDuty 120/min by default), a circuit breaker and a
limit on calls in flight (``Link.concurrency``: 1 for Slack and PagerDuty, 4 for webhooks). Per
lane (receiver + incident) one action at a time, so a resolve never overtakes its trigger. A
retryable failure (timeout, reset, 5xx, 429) is retried with capped exponential backoff and
jitter, never sooner than ``Retry-After``, which also holds back every other request to that
receiver; retries go on until the receiver's deadline; then, or at once for a permanent failure
(other 4xx, invalid body), the action is dead-lettered: reported with status ``failed`` and the
reason. Silenced actions are reported ``suppressed``. Every outcome is handed to ``on_final``
and recorded in the outbox.

A time budget (``drain(max_s)``) only stops *starting* requests: a request in flight is never
cancelled by it; it completes or times out on its receiver's own timeout (cancelling it would
send the action again after the receiver may have accepted it).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter, deque
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from connectors.errors import DeliveryError, Failure
from connectors.limits import CircuitBreaker, Clock, RateLimiter, RealClock
from connectors.outbox import Entry, Outbox, final_of
from connectors.retry import Backoff
from connectors.safetext import escape_text
from engine.act.silence import Silence, silence_covering
from engine.events import Action, ActionStatus

log = logging.getLogger("vigil.delivery")


class Notifier(Protocol):
    """A receiver connector: deliver one action or raise ``DeliveryError``."""

    name: str

    async def send(self, action: Action) -> None: ...


@dataclass(slots=True)
class Link:
    """A notifier with its delivery settings and live limiter/breaker."""

    notifier: Notifier
    timeout_s: float = 10.0
    deadline_s: float = 3600.0
    rate_per_s: float | None = None
    concurrency: int = 1
    """Requests in flight to this receiver at most."""
    limiter: RateLimiter = field(init=False)
    breaker: CircuitBreaker = field(default_factory=CircuitBreaker)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.rate_per_s)


OnFinal = Callable[[Action], None]


class Dispatcher:
    """Delivers what the outbox holds; ``submit`` adds decided actions, ``drain`` sends."""

    def __init__(
        self,
        outbox: Outbox,
        links: dict[str, Link],
        on_final: OnFinal,
        *,
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        silences: Callable[[], Iterable[Silence]] = list,
        seed: int = 0,
    ) -> None:
        self.outbox, self.links, self.on_final = outbox, links, on_final
        self.clock = clock or RealClock()
        self.backoff = backoff or Backoff(1.0, 60.0)
        self.silences, self.rng = silences, random.Random(seed)  # noqa: S311 (jitter)
        self.stats: Counter[str] = Counter()
        self.lanes: dict[str, dict[str, deque[Entry]]] = {name: {} for name in links}
        self.in_flight: Counter[str] = Counter()
        self.held_until: dict[str, float] = {}  # receiver -> clock time its Retry-After ends
        self._kicks = {name: asyncio.Event() for name in links}
        self.last_error: dict[str, str] = {}  # receiver -> its last error, as logged
        self._enqueue(outbox.pending())

    def submit(self, actions: Iterable[Action]) -> None:
        """Queue decided actions (known ids are ignored); pass planner-suppressed ones on."""
        decided = []
        for action in actions:
            if action.status is ActionStatus.DECIDED:
                decided.append(action)
            else:
                self.stats[action.status.value] += 1
                self.on_final(action)
        self._enqueue(self.outbox.put(decided))

    def backlog(self) -> int:
        return sum(len(q) for lanes in self.lanes.values() for q in lanes.values())

    def stalled(self, name: str) -> bool:
        """Whether receiver ``name`` has nothing in flight and every lane of it waits for a
        retry after a failure in this process (or its circuit breaker is open, or it asked to
        wait with ``Retry-After``)."""
        lanes, now = self.lanes[name], self.clock.now()
        if self.in_flight[name]:
            return False
        if self.links[name].breaker.allowance(now) == 0 or self.held_until.get(name, now) > now:
            return True
        return all(q[0].first_at is not None for q in lanes.values())

    async def drain(self, max_s: float | None = None) -> None:
        """Deliver until nothing is pending (or ``max_s`` of clock time has passed; requests
        in flight then still finish)."""
        stop_at = None if max_s is None else self.clock.now() + max_s
        await asyncio.gather(*(self._work(name, stop_at) for name in self.links))

    async def drain_receiver(self, name: str, max_s: float | None = None) -> None:
        """Deliver receiver ``name``'s pending actions (``drain`` runs this for every one)."""
        stop_at = None if max_s is None else self.clock.now() + max_s
        await self._work(name, stop_at)

    def _enqueue(self, entries: Iterable[Entry]) -> None:
        for entry in entries:
            lanes = self.lanes.get(entry.action.receiver)
            if lanes is None:
                receiver = entry.action.receiver
                reason = f"{Failure.NO_RECEIVER.value} named {receiver!r} is configured"
                self._finish(entry, ActionStatus.FAILED, reason)
                continue
            lanes.setdefault(entry.lane, deque()).append(entry)
            self._kicks[entry.action.receiver].set()

    async def _work(self, name: str, stop_at: float | None) -> None:
        link, lanes, kick = self.links[name], self.lanes[name], self._kicks[name]
        running: dict[asyncio.Task[None], str] = {}
        while lanes or running:
            now = self.clock.now()
            if stop_at is not None and now >= stop_at:
                break
            kick.clear()
            wait_s = self._start_ready(link, lanes, running, now)
            if stop_at is not None:
                wait_s = min(wait_s, max(0.001, stop_at - now))
            await _wait_any(running, self.clock.sleep(wait_s), kick)
        if running:  # the budget is over: requests in flight still finish (or time out)
            await asyncio.wait(running)
            for task in running:
                task.result()

    def _start_ready(
        self,
        link: Link,
        lanes: dict[str, deque[Entry]],
        running: dict[asyncio.Task[None], str],
        now: float,
    ) -> float:
        """Start every lane head that may go now; return how long to wait before looking again."""
        busy = set(running.values())
        heads = sorted((q[0] for lane, q in lanes.items() if lane not in busy), key=_by_seq)
        wake = [h.next_at - now for h in heads if h.next_at > now]
        allowance = link.breaker.allowance(now)
        if allowance == 0:
            wake.append((link.breaker.open_until or now) - now)
        for head in (h for h in heads if h.next_at <= now):
            cap = link.concurrency if allowance < 0 else allowance
            if len(running) >= cap:
                break
            at = self.clock.now()
            wait = link.limiter.reserve(at)
            if wait > 0:
                wake.append(wait)
                break
            log.debug(
                "delivery start receiver=%s action=%s at=%.6f",
                link.notifier.name,
                head.action.id,
                at,
            )
            task = asyncio.ensure_future(self._attempt(link, lanes, head))
            running[task] = head.lane
        return max(0.001, min(wake, default=0.05))

    async def _attempt(self, link: Link, lanes: dict[str, deque[Entry]], entry: Entry) -> None:
        now = self.clock.now()
        silence = silence_covering(self.silences(), _labels(entry.action), time.time())
        if silence is not None:
            self._done(lanes, entry, ActionStatus.SUPPRESSED, f"silenced by {silence.id}")
            return
        entry.attempts += 1
        entry.first_at = now if entry.first_at is None else entry.first_at
        self.stats["attempts"] += 1
        self.in_flight[link.notifier.name] += 1
        try:
            await asyncio.wait_for(link.notifier.send(entry.action), link.timeout_s * 1.5)
        except DeliveryError as err:
            self._failed(link, lanes, entry, err)
            return
        except TimeoutError:
            self._failed(
                link, lanes, entry, DeliveryError(link.notifier.name, "timeout", retryable=True)
            )
            return
        finally:
            self.in_flight[link.notifier.name] -= 1
        link.breaker.success()
        self._done(lanes, entry, ActionStatus.DELIVERED, None)

    def _failed(
        self, link: Link, lanes: dict[str, deque[Entry]], entry: Entry, err: DeliveryError
    ) -> None:
        now, name = self.clock.now(), link.notifier.name
        detail = str(err).removeprefix(f"{name}: ")
        if self.last_error.get(name) != detail:  # log once when the error changes
            self.last_error[name] = detail
            log.warning(
                "delivery receiver=%s retryable=%s error=%s",
                escape_text(name),
                err.retryable,
                escape_text(detail),
            )
        if not err.retryable:
            self._done(lanes, entry, ActionStatus.FAILED, f"{Failure.PERMANENT.value}: {detail}")
            return
        link.breaker.failure(now)
        delay = self.backoff.delay_s(entry.attempts, self.rng)
        if err.retry_after_s is not None:
            delay = max(delay, err.retry_after_s)
            link.limiter.pause_until(now + err.retry_after_s)
            self.held_until[name] = max(self.held_until.get(name, now), now + err.retry_after_s)
        if now + delay - (entry.first_at or now) > link.deadline_s:
            reason = (
                f"{Failure.DEADLINE.value} {link.deadline_s:g}s passed after {entry.attempts} "
                f"attempts: {detail}"
            )
            self._done(lanes, entry, ActionStatus.FAILED, reason)
            return
        self.stats["retries"] += 1
        entry.next_at, entry.error = now + delay, detail
        self.outbox.retry_later(entry)

    def _done(
        self, lanes: dict[str, deque[Entry]], entry: Entry, status: ActionStatus, error: str | None
    ) -> None:
        queue = lanes[entry.lane]
        queue.popleft()
        if not queue:
            del lanes[entry.lane]
        self._finish(entry, status, error)

    def _finish(self, entry: Entry, status: ActionStatus, error: str | None) -> None:
        final = final_of(entry, status, error)
        self.outbox.finish(entry, final)
        self.stats[status.value] += 1
        self.on_final(final)


async def _wait_any(
    running: dict[asyncio.Task[None], str], sleep: Coroutine[Any, Any, None], kick: asyncio.Event
) -> None:
    """Wait for a request in flight to finish, ``sleep`` to end or ``kick`` (new work)."""
    waiters = [asyncio.ensure_future(sleep), asyncio.ensure_future(kick.wait())]
    try:
        done, _ = await asyncio.wait([*running, *waiters], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    for task in [t for t in running if t in done]:
        running.pop(task)
        task.result()


def _by_seq(entry: Entry) -> int:
    return entry.seq


def _labels(action: Action) -> dict[str, str]:
    labels = action.payload.get("labels")
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}
