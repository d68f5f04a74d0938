"""Embedded-mode delivery: decided actions -> SQLite outbox -> receivers, synchronously.

``OutboxDeliverer`` fits the replay runtime's ``deliver(actions) -> final actions`` hook: each
call queues the actions durably and delivers for at most ``budget_s``; whatever is still
pending stays in the outbox and goes out on a later call, on ``close()``, or after a restart.
Besides the routing receivers it has the built-in ``model-control`` receiver (fallback
actions -> ``model_control.jsonl`` and the MLflow alias; ``connectors.notify.model_control``)
unless routing defines a receiver of that name.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TextIO

from connectors.delivery import Dispatcher, Link
from connectors.limits import Clock
from connectors.metrics import VigilMetrics
from connectors.notify import open_links
from connectors.notify.model_control import RECEIVER as MODEL_CONTROL
from connectors.notify.model_control import open_model_control
from connectors.outbox import SqliteOutbox
from connectors.retry import Backoff
from engine.act.silence import Silence
from engine.events import Action, ActionStatus
from engine.rules.routing import RoutingRules


class OutboxDeliverer:
    def __init__(
        self,
        rules: RoutingRules,
        out_dir: Path,
        *,
        env: Mapping[str, str] | None = None,
        stream: TextIO | None = None,
        budget_s: float = 5.0,
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        silences: Callable[[], Iterable[Silence]] = list,
        metrics: VigilMetrics | None = None,
    ) -> None:
        self.loop = asyncio.new_event_loop()
        self.finals: list[Action] = []
        self.budget_s = budget_s
        self.metrics = metrics
        self.outbox = SqliteOutbox(out_dir / "outbox.sqlite")
        env = os.environ if env is None else env
        links, self.clients = open_links(rules, env, out_dir, stream)
        if MODEL_CONTROL not in links:
            notifier, client = open_model_control(env, out_dir)
            links[MODEL_CONTROL] = Link(notifier)
            self.clients += [client] if client is not None else []
        self.dispatcher = Dispatcher(
            self.outbox, links, self.finals.append, clock=clock, backoff=backoff, silences=silences
        )

    def __call__(self, actions: list[Action]) -> list[Action]:
        self.dispatcher.submit(actions)
        self.loop.run_until_complete(self.dispatcher.drain(self.budget_s))
        out, self.finals[:] = list(self.finals), []
        self._count(out)
        return out

    def close(self, drain_s: float = 0.0) -> list[Action]:
        """Deliver for up to ``drain_s`` more, close clients and the outbox; return outcomes."""
        if drain_s > 0:
            self.loop.run_until_complete(self.dispatcher.drain(drain_s))
        for client in self.clients:
            self.loop.run_until_complete(client.aclose())
        self.loop.close()
        self.outbox.close()
        self._count(self.finals)
        return list(self.finals)

    def _count(self, finals: list[Action]) -> None:
        """Receiver deliveries, failures and retries (attempts after the first), outbox depth."""
        if self.metrics is None:
            return
        m = self.metrics
        m.outbox_depth.set(self.dispatcher.backlog())
        for action in finals:
            if action.attempts > 1:
                m.delivery_retries.labels(receiver=action.receiver).inc(action.attempts - 1)
            if action.status is ActionStatus.DELIVERED:
                m.deliveries.labels(receiver=action.receiver).inc()
            elif action.status is ActionStatus.FAILED:
                permanent = (action.error or "").startswith("permanent")
                retryable = "false" if permanent else "true"
                m.delivery_failures.labels(receiver=action.receiver, retryable=retryable).inc()
