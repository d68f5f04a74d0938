"""``vigil worker --config FILE``: build the pipeline from rules and run a Kafka worker.

The process creates missing topics, starts its services (``connectors.kafka.services``: the HTTP
API with ``/metrics``, health, ingest and the console on ``http_port`` — old name
``metrics_port`` — and the action dispatcher), and on SIGTERM/SIGINT checkpoints (flush ->
state -> offsets), leaves the group cleanly and stops the services.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path
from typing import TYPE_CHECKING

from connectors.checkpoint import CheckpointStore
from connectors.kafka.config import WorkerConfig, load_config
from connectors.logformat import configure_logging
from engine.pipeline import Pipeline
from engine.rules import RuleSet

if TYPE_CHECKING:
    from connectors.kafka.services import WorkerServices


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
    # the command line's --log-format / --log-level win over the config's
    configure_logging(
        getattr(args, "log_format", None) or cfg.log_format,
        getattr(args, "log_level", None) or cfg.log_level,
    )
    asyncio.run(serve(cfg))
    return 0


def load_worker_rules(cfg: WorkerConfig) -> RuleSet:
    from connectors.rulefiles import load_rules

    return load_rules([Path(cfg.rules_path)] if cfg.rules_path else None)


def build_pipeline(cfg: WorkerConfig, rules: RuleSet | None = None) -> Pipeline:
    """The pipeline of the worker's rules, with its stored model reference profiles."""
    from connectors.reference import load_reference_option

    references = load_reference_option(Path(cfg.references_path) if cfg.references_path else None)
    return Pipeline.from_rules(rules or load_worker_rules(cfg), references)


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


async def serve(
    cfg: WorkerConfig, stop: asyncio.Event | None = None, services: WorkerServices | None = None
) -> None:
    """Run one worker until ``stop`` is set (or SIGTERM/SIGINT when ``stop`` is None).

    ``services`` (built from ``cfg`` and its rules when not given) is started before the worker
    and stopped after it; pass one to read its bound ``port`` or its state while it runs.
    """
    from connectors.kafka.admin import ensure_topics
    from connectors.kafka.services import WorkerServices
    from connectors.kafka.worker import Worker

    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    await ensure_topics(cfg.topics, cfg.partitions, cfg.client_kwargs())
    # services (connectors/kafka/services.py): HTTP API, console, delivery
    rules = load_worker_rules(cfg) if services is None else services.rules
    services = services or WorkerServices(cfg, rules)
    await services.start()
    store = await open_store(cfg)
    worker = Worker(cfg, build_pipeline(cfg, rules), store, runtime=rules.runtime)
    worker.on_restored.append(services.mark_ready)
    worker.on_incident_outputs.append(services.observe_incident_outputs)
    services.watch_lag(worker.consumer)  # consumer lag per partition, sampled by services
    try:
        await worker.start()
        await worker.run(stop)
    finally:
        await services.stop()
