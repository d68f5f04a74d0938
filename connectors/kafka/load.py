"""``vigil load --rate N --duration S``: a load generator for demos and benchmarks.

(``vigil load SCENARIO_DIR`` puts a replay folder onto the topics instead:
``connectors.kafka.scenario_load``.)

Produces realistic metrics and logs (from ``testing.scenarios.shop``: a shop of services with a bad
deploy three quarters of the way through) plus model predictions, re-stamped with the wall
clock so they look live. Metrics are keyed by series so each series stays on one partition.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from connectors.kafka.config import DEFAULT_BOOTSTRAP, Topics, WorkerConfig, load_config
from engine.events import InputKind, series_key

Item = tuple[str, bytes, dict[str, Any]]  # topic attribute, key, record


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """What to produce: ``rate_per_s`` records per second for ``duration_s`` seconds."""

    rate_per_s: float
    duration_s: float
    seed: int = 7
    predictions_share: float = 0.05

    def __post_init__(self) -> None:
        if self.rate_per_s <= 0 or self.duration_s <= 0:
            raise ValueError("rate_per_s and duration_s must be > 0")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "load",
        help="produce a replay folder (SCENARIO_DIR) or live-looking load (--rate/--duration)",
        description="With SCENARIO_DIR: produce a replay folder's records to the worker's input "
        "topics in event time, keyed as the worker expects, topology first (deploy/README.md, "
        "'Loading historical data'); exit 1 if a line could not be decoded or delivered. "
        "Without it: produce generated metrics, logs and predictions stamped with the wall "
        "clock at --rate records/s for --duration seconds.",
    )
    p.add_argument(
        "scenario", nargs="?", type=Path, metavar="SCENARIO_DIR", help="replay folder to produce"
    )
    p.add_argument("--rate", type=float, help="records per second (generated load)")
    p.add_argument("--duration", type=float, help="seconds to run (generated load)")
    p.add_argument("--config", type=Path, help="worker config YAML (broker, topics, security)")
    p.add_argument("--bootstrap", help=f"broker address (default {DEFAULT_BOOTSTRAP})")
    p.add_argument("--seed", type=int, default=7, help="generated load only")
    p.set_defaults(handler=_cmd_load, parser=p)


def _cmd_load(args: argparse.Namespace) -> int:
    from connectors.progress import ProgressBar

    cfg = load_config(args.config) if args.config else WorkerConfig()
    if args.bootstrap:
        cfg = cfg.with_overrides(bootstrap_servers=args.bootstrap)
    if args.scenario is not None:
        if args.rate is not None or args.duration is not None:
            args.parser.error("give SCENARIO_DIR or --rate/--duration, not both")
        return _cmd_load_scenario(args.scenario, cfg)
    if args.rate is None or args.duration is None:
        args.parser.error("give SCENARIO_DIR, or --rate and --duration for generated load")
    plan = LoadPlan(args.rate, args.duration, args.seed)
    sent = asyncio.run(produce_load(plan, cfg, ProgressBar("load")))
    print(f"load: {sent:,} records in {plan.duration_s:.0f}s to {cfg.bootstrap_servers}")
    return 0


def _cmd_load_scenario(folder: Path, cfg: WorkerConfig) -> int:
    from connectors.kafka.scenario_load import load_scenario

    if not folder.is_dir():
        print(f"load: {folder}: not a folder", file=sys.stderr)
        return 2
    result = asyncio.run(load_scenario(folder, cfg))
    print(
        f"load: {result.produced:,} records from {folder} to {cfg.bootstrap_servers}, "
        f"{result.rejected:,} lines rejected, {result.failed:,} not delivered"
    )
    return 1 if result.rejected or result.failed else 0


def live_records(seed: int, predictions_share: float = 0.05) -> Iterator[Item]:
    """Endless records from a generated scenario, re-stamped with ``time.time()``."""
    from testing.scenarios.shop import generate_scenario

    scenario = generate_scenario(seed=seed, hours=2.0)
    rng = random.Random(seed)  # noqa: S311  # synthetic load, not security
    metrics = scenario.records[InputKind.METRICS]
    logs = scenario.records[InputKind.LOGS]
    share_logs = len(logs) / max(1, len(metrics) + len(logs))
    metric_iter, log_iter = itertools.cycle(metrics), itertools.cycle(logs)
    for n in itertools.count():
        roll = rng.random()
        if roll < predictions_share:
            yield "predictions", b"fraud-detector", _prediction(n, rng)
        elif roll < predictions_share + share_logs:
            record = dict(next(log_iter), ts=time.time())
            yield "logs", str(record.get("labels", {}).get("service", "")).encode(), record
        else:
            record = dict(next(metric_iter), ts=time.time())
            yield "metrics", series_key(record["name"], record["labels"]).encode(), record


def _prediction(n: int, rng: random.Random) -> dict[str, Any]:
    amount = round(rng.lognormvariate(3.5, 1.0), 2)
    return {
        "ts": time.time(),
        "model": "fraud-detector",
        "version": "4",
        "id": f"p-{n:09d}",
        "features": {
            "transaction_amount": amount,
            "user_age_days": rng.randrange(1, 3000),
            "merchant_category": rng.choice(["grocery", "travel", "games", "fuel"]),
        },
        "prediction": int(amount > 200),
        "score": round(min(1.0, amount / 400), 3),
    }


async def produce_load(plan: LoadPlan, cfg: WorkerConfig, progress: Any = None) -> int:
    """Produce at ``plan.rate_per_s`` (paced every 10 ms) for ``plan.duration_s``; returns count."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(linger_ms=5, max_batch_size=1 << 20, **cfg.client_kwargs())
    await producer.start()
    topics: Topics = cfg.topics
    names = {attr: topics.name(attr) for attr in ("metrics", "logs", "predictions")}
    sent, started = 0, time.monotonic()
    records = live_records(plan.seed, plan.predictions_share)
    try:
        while (elapsed := time.monotonic() - started) < plan.duration_s:
            due = int(elapsed * plan.rate_per_s) - sent
            for attr, key, record in itertools.islice(records, max(0, due)):
                await producer.send(names[attr], orjson.dumps(record), key=key)
            sent += max(0, due)
            if progress is not None:
                progress.update(elapsed, plan.duration_s, f"{sent:,} records")
            await asyncio.sleep(0.01)
        await producer.flush()
    finally:
        await producer.stop()
        if progress is not None:
            progress.done()
    return sent
