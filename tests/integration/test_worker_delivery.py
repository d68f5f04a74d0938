"""Worker-mode delivery on a real broker: the actions topic as the outbox, a real HTTP receiver.

Decided actions are produced to ``actions`` as the worker does; a dispatcher delivers some, the
receiver goes down, the dispatcher is stopped mid-way with a backlog and a new one takes over:
every action reaches the receiver exactly once, in order per incident, and each gets exactly
one ``delivered`` outcome record on the actions topic.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import defaultdict
from pathlib import Path

import orjson
import pytest

from connectors.delivery import Dispatcher
from connectors.kafka.config import config_from_dict
from connectors.kafka.dispatch import ActionDispatcher
from connectors.kafka.services import WorkerServices
from connectors.kafka.telemetry import METRICS
from connectors.notify import open_links
from connectors.outbox import MemoryOutbox
from connectors.retry import Backoff
from engine.act.planner import ActionPlanner, _incident
from engine.events import Action, IncidentStatus, Severity
from engine.rules import parse
from tests.integration.kafka_io import (
    Patience,
    create_topics,
    produce,
    read_topic,
    worker_config,
)
from tests.integration.receivers import Receiver

pytestmark = pytest.mark.integration

HMAC_KEY = "hmac-worker-key"


def rules_for(url: str) -> str:
    return f"""
routing:
  receivers:
    - {{name: hook, type: webhook, url: "{url}/hook", secret_env: T_HMAC, timeout: 2s}}
  route: {{receiver: hook, group_wait: 0s, group_interval: 0s, repeat_interval: 0s}}
"""


def decide(url: str, n_incidents: int) -> list[Action]:
    planner = ActionPlanner.from_rules(parse(rules_for(url)).routing)
    state, actions = planner.initial_state(), []
    for i in range(n_incidents):
        iid, t = f"inc-{i}", 100.0 * i
        for step in (
            _incident(iid, IncidentStatus.OPEN, t, Severity.CRITICAL, 0, "payments"),
            _incident(iid, IncidentStatus.UPDATED, t + 10, Severity.CRITICAL, 1, "db"),
            _incident(iid, IncidentStatus.RESOLVED, t + 20, Severity.CRITICAL, 2, "db"),
        ):
            state, out = planner.process(state, [step], now=step.updated_at)
            actions.extend(out)
    return actions


def dispatcher_for(cfg, url: str, tmp_path: Path) -> ActionDispatcher:  # type: ignore[no-untyped-def]
    links, _ = open_links(parse(rules_for(url)).routing, {"T_HMAC": HMAC_KEY}, tmp_path)
    return ActionDispatcher(cfg, links, backoff=Backoff(0.2, 1.0))


async def _until(check, timeout_s: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    patience = Patience(timeout_s)  # timeout_s without progress of the worker, not in total
    while not check():
        assert not patience.expired(), "condition not met in time"
        await asyncio.sleep(0.05)


async def _crash(dispatcher: ActionDispatcher, receiver: Receiver) -> None:
    """Run until 4 are delivered and their outcomes written; then stop dead: no commit."""
    dispatcher._last_commit = float("inf")  # never commit: the restart reads from the start
    while not (len(receiver.accepted()) >= 4 and len(receiver.requests) >= 6):
        await dispatcher.step()
    await dispatcher.step()  # writes the outcomes of the deliveries done so far
    for task in dispatcher.workers.values():
        task.cancel()
    await _until(lambda: dispatcher.in_flight[0] == 0)
    await dispatcher.consumer.stop()
    await dispatcher.producer.stop()


@pytest.mark.parametrize("crash", [False, True], ids=["stopped", "crashed"])
async def test_restarted_dispatcher_delivers_every_action_exactly_once(
    kafka_bootstrap: str, kafka_names, receiver: Receiver, tmp_path: Path, crash: bool
) -> None:
    topics, group = kafka_names
    cfg = worker_config(kafka_bootstrap, topics, group)
    await create_topics(cfg)
    actions = decide(receiver.url, 4)
    assert len(actions) == 12
    items = [
        (a.incident.encode(), orjson.dumps({**a.to_wire(), "payload": a.payload})) for a in actions
    ]
    await produce(kafka_bootstrap, topics.name("actions"), items)
    # the first four requests succeed, then the receiver is down until we bring it back
    receiver.script = [200, 200, 200, 200]
    receiver.down_until = time.monotonic() + 3600

    first = dispatcher_for(cfg, receiver.url, tmp_path)
    await first.start()
    if crash:
        await _crash(first, receiver)
    else:
        stop = asyncio.Event()
        run = asyncio.create_task(first.run(stop))
        await _until(lambda: len(receiver.accepted()) >= 4 and len(receiver.requests) >= 6)
        stop.set()
        await asyncio.wait_for(run, 30)  # stopped with a backlog of 8 undelivered actions
    assert len(receiver.accepted()) == 4

    receiver.down_until = 0.0
    second = dispatcher_for(cfg, receiver.url, tmp_path)
    await second.start()
    stop2 = asyncio.Event()
    run2 = asyncio.create_task(second.run(stop2))
    await _until(lambda: len(receiver.accepted()) >= len(actions))
    await asyncio.sleep(1.0)  # room for a duplicate to show up
    stop2.set()
    await asyncio.wait_for(run2, 30)

    delivered = [r.headers["Idempotency-Key"] for r in receiver.accepted()]
    assert sorted(delivered) == sorted(a.id for a in actions)  # each exactly once
    per_incident = defaultdict(list)
    for r in receiver.accepted():
        body = orjson.loads(r.body)
        per_incident[body["action"]["incident"]].append(body["event"])
    assert all(v == ["trigger", "update", "resolve"] for v in per_incident.values())

    records = await read_topic(
        kafka_bootstrap, topics.name("actions"), lambda got: len(got) >= 2 * len(actions)
    )
    outcomes = [r for r in records if r["status"] != "decided"]
    assert sorted(r["id"] for r in outcomes) == sorted(a.id for a in actions)
    assert {r["status"] for r in outcomes} == {"delivered"}


async def test_the_worker_counts_a_failure_retryable_or_not_as_the_receiver_answered(
    receiver: Receiver, tmp_path: Path
) -> None:
    """``vigil_receiver_failures_total{retryable}`` on a worker: a 400 is a permanent refusal
    (``false``); 503s until the receiver's deadline are retryable (``true``), as in the
    embedded runtime. (On main the worker counted every failure ``false``.)"""
    rules = parse(f"""
routing:
  receivers:
    - {{name: hook-counted, type: webhook, url: "{receiver.url}/hook", secret_env: T_HMAC,
        timeout: 2s, deadline: 1s}}
  route: {{receiver: hook-counted, group_wait: 0s, group_interval: 0s, repeat_interval: 0s}}
""")
    services = WorkerServices(config_from_dict({"metrics_port": None}), rules)
    links, clients = open_links(rules.routing, {"T_HMAC": HMAC_KEY}, tmp_path)
    dispatcher = Dispatcher(
        MemoryOutbox(), links, services.observe_outcome, backoff=Backoff(0.05, 0.1)
    )
    first, second = (
        dataclasses.replace(a, receiver="hook-counted") for a in decide(receiver.url, 1)[:2]
    )

    def failures(retryable: str) -> float:
        labels = {"receiver": "hook-counted", "retryable": retryable}
        return METRICS.registry.get_sample_value("vigil_receiver_failures_total", labels) or 0.0

    before = failures("true"), failures("false")
    receiver.default = 400
    dispatcher.submit([first])
    await dispatcher.drain()
    receiver.default = 503
    dispatcher.submit([second])
    await dispatcher.drain()
    for client in clients:
        await client.aclose()
    assert len(receiver.requests) > 2  # the 503s were retried
    assert (failures("true") - before[0], failures("false") - before[1]) == (1.0, 1.0)
