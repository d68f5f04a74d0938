"""Embedded-mode delivery: decided actions -> SQLite outbox -> receivers, beside the pipeline.

``OutboxDeliverer`` fits the replay runtime's ``deliver(actions) -> final actions`` hook. Its
dispatcher runs on its own thread and event loop, so delivery never blocks processing: a call
stores the actions durably in the outbox (it returns once they are written), hands them to the
dispatcher and returns the outcomes finished since the last call. Each receiver has its own
worker, so a dead receiver costs only its own retries. Delivery starts with the first call
(``__call__``, ``flush``, ``close``), not when the deliverer is made: until then the outbox
holds only what earlier runs recorded, which ``vigil serve`` reconciles with ``actions.jsonl``
at start (an outcome the new dispatcher finished first would be written twice).

At the end (``close``) the deliverer keeps delivering for up to ``drain_s`` while receivers make
progress: requests in flight finish (or time out on their receiver's timeout), and actions not
yet tried get their attempt. Actions that wait for a retry after a failure are not waited on:
they are reported (``pending``, a warning naming receiver, count and last error) and stay in
the outbox, which the next run with the same output folder delivers first. ``flush(max_s)``
waits for everything, retries included (tests, and callers who prefer to wait).

Besides the routing receivers it has the built-in ``model-control`` receiver (fallback
actions -> ``model_control.jsonl`` and the MLflow alias; ``connectors.notify.model_control``)
unless routing defines a receiver of that name.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Coroutine, Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO, TypeVar

from connectors.delivery import Dispatcher, Link
from connectors.limits import Clock, RealClock
from connectors.metrics import VigilMetrics
from connectors.notify import open_links
from connectors.notify.model_control import RECEIVER as MODEL_CONTROL
from connectors.notify.model_control import open_model_control
from connectors.outbox import SqliteOutbox
from connectors.retry import Backoff
from connectors.safetext import escape_text
from engine.act.silence import Silence
from engine.events import Action
from engine.rules.routing import RoutingRules

log = logging.getLogger("vigil.delivery")
T = TypeVar("T")
_POLL_S = 0.02
"""Real seconds between looks at the backlog while ``close`` / ``flush`` wait."""


class OutboxDeliverer:
    def __init__(
        self,
        rules: RoutingRules,
        out_dir: Path,
        *,
        env: Mapping[str, str] | None = None,
        stream: TextIO | None = None,
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        silences: Callable[[], Iterable[Silence]] = list,
        metrics: VigilMetrics | None = None,
    ) -> None:
        self.finals: list[Action] = []
        self.pending: list[Action] = []
        """After ``close``: the actions left undelivered in the outbox."""
        self.metrics, self.clock = metrics, clock or RealClock()
        self.path = out_dir / "outbox.sqlite"
        env = os.environ if env is None else env
        links, self.clients = open_links(rules, env, out_dir, stream)
        if MODEL_CONTROL not in links:
            notifier, client = open_model_control(env, out_dir)
            links[MODEL_CONTROL] = Link(notifier)
            self.clients += [client] if client is not None else []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="vigil-delivery")
        self.thread.daemon = True
        self.thread.start()
        self.workers: dict[str, asyncio.Task[None]] = {}
        self.dispatcher = self._run(self._open(links, backoff, silences))

    async def _open(
        self,
        links: dict[str, Link],
        backoff: Backoff | None,
        silences: Callable[[], Iterable[Silence]],
    ) -> Dispatcher:
        """The outbox and dispatcher, made on the delivery thread (SQLite stays on it)."""
        self.outbox = SqliteOutbox(self.path)
        dispatcher = Dispatcher(
            self.outbox,
            links,
            self.finals.append,
            clock=self.clock,
            backoff=backoff,
            silences=silences,
        )
        self.dispatcher = dispatcher  # workers start with the first call (module docstring)
        return dispatcher

    def __call__(self, actions: list[Action]) -> list[Action]:
        """Store ``actions`` in the outbox and return the outcomes finished so far."""
        return self._count(self._run(self._submit(actions)))

    def flush(self, max_s: float | None = None) -> list[Action]:
        """Wait until nothing is pending (retries included) or ``max_s`` clock seconds passed;
        return the outcomes finished since the last call."""
        return self._count(self._run(self._settle(max_s, retries=True)))

    def close(self, drain_s: float = 0.0) -> list[Action]:
        """Deliver while receivers make progress (up to ``drain_s``), report what is left
        pending, close clients and the outbox; return the outcomes not yet returned."""
        finals = self._run(self._settle(drain_s, retries=False))
        self.pending = self._run(self._shut_down())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()
        self._report_pending()
        return self._count(finals)

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    async def _submit(self, actions: list[Action]) -> list[Action]:
        self.dispatcher.submit(actions)
        self._start_workers()
        return self._take()

    def _take(self) -> list[Action]:
        out, self.finals[:] = list(self.finals), []
        if self.metrics is not None:
            self.metrics.outbox_depth.set(self.dispatcher.backlog())
        return out

    def _start_workers(self) -> None:
        """A worker per receiver with work (a finished one surfaces its error here)."""
        for name, lanes in self.dispatcher.lanes.items():
            task = self.workers.get(name)
            if task is not None and task.done():
                del self.workers[name]
                if not task.cancelled():
                    task.result()  # a bug in delivery surfaces here
            if lanes and name not in self.workers:
                self.workers[name] = asyncio.ensure_future(self.dispatcher.drain_receiver(name))

    async def _settle(self, max_s: float | None, *, retries: bool) -> list[Action]:
        """Wait while there is work (only progress without retries unless ``retries``)."""
        stop_at = None if max_s is None else self.clock.now() + max_s
        while self.dispatcher.backlog():
            self._start_workers()
            if stop_at is not None and self.clock.now() >= stop_at:
                break
            if not retries and all(self.dispatcher.stalled(n) for n in self.dispatcher.lanes):
                break
            await asyncio.sleep(_POLL_S)
        await self._stop_workers()
        return self._take()

    async def _stop_workers(self) -> None:
        """Start nothing more; requests in flight finish (or time out on their own timeout).
        The next call starts the workers again."""
        workers, self.workers = list(self.workers.values()), {}
        for task in workers:
            task.cancel()
        for result in await asyncio.gather(*workers, return_exceptions=True):
            if isinstance(result, Exception):
                raise result  # a bug in delivery surfaces here
        while sum(self.dispatcher.in_flight.values()):
            await asyncio.sleep(_POLL_S)

    async def _shut_down(self) -> list[Action]:
        """Return what is still pending (nothing is in flight now); close clients and outbox."""
        pending = [e.action for q in self._queues() for e in q]
        for client in self.clients:
            await client.aclose()
        self.outbox.close()
        return pending

    def _queues(self) -> Iterable[Iterable[Any]]:
        return (q for lanes in self.dispatcher.lanes.values() for q in lanes.values())

    def _report_pending(self) -> None:
        by_receiver: dict[str, list[Action]] = {}
        for action in self.pending:
            by_receiver.setdefault(action.receiver, []).append(action)
        errors = self.dispatcher.last_error
        for name, actions in sorted(by_receiver.items()):
            log.warning(
                "delivery pending receiver=%s actions=%d left_in=%s last_error=%s",
                escape_text(name),
                len(actions),
                self.path,
                escape_text(errors.get(name) or "-"),
            )

    def _count(self, finals: list[Action]) -> list[Action]:
        """Receiver deliveries, failures and retries (attempts after the first)."""
        if self.metrics is not None:
            for action in finals:
                self.metrics.count_outcome(action)
        return finals
