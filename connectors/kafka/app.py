"""``vigil worker --config FILE``: build the pipeline from rules and run a Kafka worker.

The process creates missing topics, serves Prometheus metrics on ``metrics_port``, and on
SIGTERM/SIGINT checkpoints (flush -> state -> offsets) and leaves the group cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from pathlib import Path

from connectors.checkpoint import CheckpointStore
from connectors.kafka.config import WorkerConfig, load_config
from engine.pipeline import Pipeline
from engine.rules import RuleSet


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "worker", help="run the pipeline on Kafka topics (one consumer-group member)"
    )
    p.add_argument("--config", type=Path, required=True, help="worker config YAML")
    p.add_argument("--bootstrap", help="override bootstrap_servers")
    p.set_defaults(handler=_cmd_worker)


def _cmd_worker(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    if args.bootstrap:
        cfg = cfg.with_overrides(bootstrap_servers=args.bootstrap)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(serve(cfg))
    return 0


def load_worker_rules(cfg: WorkerConfig) -> RuleSet:
    from connectors.rulefiles import load_rules

    return load_rules([Path(cfg.rules_path)] if cfg.rules_path else None)


def build_pipeline(cfg: WorkerConfig) -> Pipeline:
    return Pipeline.from_rules(load_worker_rules(cfg))


async def open_store(cfg: WorkerConfig) -> CheckpointStore:
    """The checkpoint store the config names (``kafka`` by default)."""
    if cfg.checkpoint_store == "memory":
        from connectors.checkpoint.memory import MemoryCheckpointStore

        return MemoryCheckpointStore()
    if cfg.checkpoint_store == "file":
        from connectors.checkpoint.file import FileCheckpointStore

        return FileCheckpointStore(cfg.checkpoint_path)
    from connectors.checkpoint.kafka import KafkaCheckpointStore

    store = KafkaCheckpointStore(cfg.topics.name("state"), cfg.client_kwargs())
    await store.start()
    return store


async def serve(cfg: WorkerConfig, stop: asyncio.Event | None = None) -> None:
    """Run one worker until ``stop`` is set (or SIGTERM/SIGINT when ``stop`` is None)."""
    from connectors.kafka.admin import ensure_topics
    from connectors.kafka.worker import Worker

    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    if cfg.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(cfg.metrics_port)
    await ensure_topics(cfg.topics, cfg.partitions, cfg.client_kwargs())
    rules = load_worker_rules(cfg)
    store = await open_store(cfg)
    worker = Worker(cfg, Pipeline.from_rules(rules), store, runtime=rules.runtime)
    await worker.start()
    await worker.run(stop)
