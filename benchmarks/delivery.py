"""Delivery benchmark: 10,000 actions through a local HTTP receiver failing 30% at random.

Checks delivered == decided and duplicates == 0 (by the Idempotency-Key the receiver saw),
then measures actions/s through a healthy receiver. Baseline: the same actions POSTed one by
one with a bare httpx client (no outbox, no retries) in the same run; ratio = candidate time /
baseline time on the healthy receiver. Run: ``python -m benchmarks.delivery [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

from connectors.delivery import Dispatcher, Link
from connectors.notify.http import new_client
from connectors.notify.webhook import WebhookNotifier
from connectors.outbox import SqliteOutbox
from connectors.retry import Backoff
from connectors.secrets import Secret
from engine.events import Action, stable_id
from tests.integration.receivers import Receiver, ReceiverThread


def make_actions(n: int, receiver: str = "hook") -> list[Action]:
    kinds = ("trigger", "update", "resolve")
    return [
        Action(
            id=stable_id("act", i // 3, receiver, kinds[i % 3]),
            ts=float(i),
            incident=f"inc-{i // 3}",
            receiver=receiver,
            type="webhook",
            dedup_key=f"inc-{i // 3}",
            payload={"event": kinds[i % 3], "incident": {"id": f"inc-{i // 3}"}},
        )
        for i in range(n)
    ]


async def deliver(url: str, actions: list[Action], folder: Path) -> tuple[float, Counter[str]]:
    client = new_client(5.0)
    notifier = WebhookNotifier("hook", client, Secret(url + "/hook"), Secret("bench-key"))
    finals: list[Action] = []
    link = Link(notifier, timeout_s=5.0, deadline_s=3600.0, concurrency=16)
    link.breaker.threshold = 10_000  # random 30% failures must not trip it in this benchmark
    outbox = SqliteOutbox(folder / "outbox.sqlite")
    dispatcher = Dispatcher(outbox, {"hook": link}, finals.append, backoff=Backoff(0.01, 0.2))
    started = time.perf_counter()
    dispatcher.submit(actions)
    await dispatcher.drain()
    elapsed = time.perf_counter() - started
    await client.aclose()
    outbox.close()
    return elapsed, Counter(a.status.value for a in finals) + Counter(
        attempts=sum(a.attempts for a in finals)
    )


async def baseline(url: str, actions: list[Action]) -> float:
    async with httpx.AsyncClient(timeout=5.0) as client:
        started = time.perf_counter()
        sem = asyncio.Semaphore(16)

        async def one(a: Action) -> None:
            async with sem:
                await client.post(url + "/hook", json=a.to_wire())

        await asyncio.gather(*(one(a) for a in actions))
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1,000 actions instead of 10,000")
    parser.add_argument("--data", type=Path, help="unused: inputs are generated (seeded)")
    args = parser.parse_args()
    n = 1000 if args.quick else 10_000
    actions = make_actions(n)
    print(f"{platform.machine()} py{platform.python_version()} actions={n}")
    flaky = ReceiverThread(Receiver(fail_rate=0.3, seed=7))
    with tempfile.TemporaryDirectory() as tmp:
        elapsed, counts = asyncio.run(deliver(flaky.receiver.url, actions, Path(tmp)))
    keys = [r.headers["Idempotency-Key"] for r in flaky.receiver.accepted()]
    flaky.stop()
    dupes = len(keys) - len(set(keys))
    print(
        f"30% failing receiver: decided={n} delivered={counts['delivered']} "
        f"failed={counts['failed']} accepted_unique={len(set(keys))} duplicates={dupes} "
        f"attempts={counts['attempts']} in {elapsed:.1f}s"
    )
    healthy = ReceiverThread(Receiver())
    base_s = asyncio.run(baseline(healthy.receiver.url, actions))
    with tempfile.TemporaryDirectory() as tmp:
        cand_s, _ = asyncio.run(deliver(healthy.receiver.url, actions, Path(tmp)))
    healthy.stop()
    print(
        f"healthy receiver: baseline (bare POSTs) {n / base_s:,.0f} actions/s  "
        f"candidate (outbox+dispatcher) {n / cand_s:,.0f} actions/s  "
        f"ratio {cand_s / base_s:.2f}x"
    )


if __name__ == "__main__":
    main()
