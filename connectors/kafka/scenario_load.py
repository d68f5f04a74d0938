"""``vigil load SCENARIO_DIR``: put a replay folder (docs/events.md) onto the worker's topics.

What a worker then computes is what ``vigil replay`` computes on the same folder, so:

* every line is decoded as ``vigil replay`` decodes it (``connectors.files.read_sourced``) and
  files are merged in event-time order, so each partition receives its records in event time;
* the record value is the line as written; the Kafka record timestamp is the event's time
  (a line without ``ts`` takes the previous line's, as in replay, and the worker reads a
  missing ``ts`` as the record timestamp);
* the topology comes first; without a ``ts`` it gets one second before the scenario's first
  event (replay applies such a topology from time 0: the incident stage releases events in
  event time, so a topology stamped with today's wall-clock time would never be applied to
  historical events);
* keys are the ones the worker's partitioning expects (``record_key``);
* a line that does not decode is not produced: it is reported (``file:line: error``) and
  counted, and the command exits non-zero after loading the rest.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import orjson
import yaml

from connectors.files import ReadProgress, read_sourced
from connectors.kafka.config import WorkerConfig
from engine.events import (
    Alert,
    Change,
    GroundTruth,
    InputEvent,
    LogRecord,
    MetricPoint,
    Prediction,
    Rejected,
    TopologyUpdate,
    series_key,
)

TOPOLOGY_LEAD_S = 1.0
"""A topology without ``ts`` is stamped this long before the scenario's first event, so it is
in force for every event (at an equal ts the incident stage orders topology after the rest)."""
SETTLE_EVERY = 10_000
"""Deliveries awaited in groups of this many, so a large folder does not keep every future."""


@dataclass(frozen=True, slots=True)
class LoadRecord:
    """One Kafka record to produce: topic attribute (``Topics.name``), key, value, time."""

    topic: str
    key: bytes
    value: bytes
    timestamp_ms: int


@dataclass(slots=True)
class LoadResult:
    produced: int = 0
    rejected: int = 0
    failed: int = 0


def record_key(event: InputEvent) -> bytes:
    """The key the worker's partitioning expects (deploy/README.md, "Loading historical data").

    Metrics by series, so a series' baseline stays in one partition; logs by ``service``;
    predictions and labels by model; alerts by fingerprint (as the worker's own
    ``POST /api/v1/alerts``); changes by service; topology by a constant (one partition).
    """
    if isinstance(event, MetricPoint):
        return series_key(event.name, event.labels).encode()
    if isinstance(event, LogRecord):
        return event.labels.get("service", "").encode()
    if isinstance(event, Prediction | GroundTruth):
        return event.model.encode()
    if isinstance(event, Alert):
        return event.fingerprint.encode()
    if isinstance(event, Change):
        return event.service.encode()
    return b"topology"


def scenario_records(folder: Path, progress: ReadProgress) -> Iterator[LoadRecord]:
    """The folder's records in the order to produce them; rejects go to ``progress``.

    A line holding a batch (a JSON array) is one record, keyed and stamped by its first event.
    """
    pending_topology: list[tuple[str, bytes]] = []
    last_line: dict[str, int] = {}
    for item in read_sourced(folder, progress):
        event = item.event
        if isinstance(event, TopologyUpdate) and event.ts == 0.0:
            if item.source not in dict(pending_topology):  # a list: one record for the file
                pending_topology.append((item.source, item.raw))
            continue
        if pending_topology:
            yield from _topology(pending_topology, event.ts - TOPOLOGY_LEAD_S)
            pending_topology = []
        if isinstance(event, TopologyUpdate):  # a topology file with its own ts
            if item.source not in last_line:
                last_line[item.source] = 0
                yield LoadRecord("topology", b"topology", item.raw, _ms(event.ts))
            continue
        line = item.offset or 0
        if last_line.get(item.source, 0) >= line:
            continue  # another element of a batch line already produced
        last_line[item.source] = line
        kind = item.source.removesuffix(".jsonl")
        yield LoadRecord(kind, record_key(event), item.raw, _ms(event.ts))
    yield from _topology(pending_topology, 0.0)


def _topology(files: list[tuple[str, bytes]], ts: float) -> Iterator[LoadRecord]:
    for source, raw in files:
        yield LoadRecord("topology", b"topology", _stamp(source, raw, ts), _ms(ts))


def _stamp(source: str, raw: bytes, ts: float) -> bytes:
    """The topology file as one JSON record, each update without ``ts`` given ``ts``."""
    obj: Any = yaml.safe_load(raw) if source.endswith((".yaml", ".yml")) else orjson.loads(raw)
    for update in obj if isinstance(obj, list) else [obj]:
        if isinstance(update, dict):
            update.setdefault("ts", ts)
    return orjson.dumps(obj)


def _ms(ts: float) -> int:
    return max(0, round(ts * 1000.0))


async def load_scenario(
    folder: Path, cfg: WorkerConfig, report: TextIO | None = None
) -> LoadResult:
    """Create missing topics, produce the folder's records, wait for every delivery; rejected
    lines and failed deliveries are printed to ``report`` (stderr) and counted."""
    from aiokafka import AIOKafkaProducer

    from connectors.kafka.admin import ensure_topics

    out = report if report is not None else sys.stderr
    await ensure_topics(cfg.topics, cfg.partitions, cfg.client_kwargs())
    producer = AIOKafkaProducer(linger_ms=5, max_batch_size=1 << 20, **cfg.client_kwargs())
    await producer.start()
    progress, result = ReadProgress(), LoadResult()
    sends: list[asyncio.Future[Any]] = []
    try:
        for rec in scenario_records(folder, progress):
            topic = cfg.topics.name(rec.topic)
            send = producer.send(topic, rec.value, key=rec.key, timestamp_ms=rec.timestamp_ms)
            sends.append(await send)
            _report_rejected(progress, result, out)
            if len(sends) >= SETTLE_EVERY:
                await _settle(sends, result, out)
        await _settle(sends, result, out)
    finally:
        await producer.stop()
    _report_rejected(progress, result, out)
    return result


async def _settle(sends: list[asyncio.Future[Any]], result: LoadResult, out: TextIO) -> None:
    """Wait for the deliveries in flight and count them (bounds the futures kept)."""
    for outcome in await asyncio.gather(*sends, return_exceptions=True):
        if isinstance(outcome, BaseException):
            result.failed += 1
            print(f"load: not delivered: {outcome!r}", file=out)
        else:
            result.produced += 1
    sends.clear()


def _report_rejected(progress: ReadProgress, result: LoadResult, report: TextIO) -> None:
    for bad in progress.rejected:
        print(f"load: {_where(bad)}: {bad.error}", file=report)
    result.rejected += len(progress.rejected)
    progress.rejected.clear()


def _where(bad: Rejected) -> str:
    return bad.source if bad.offset is None else f"{bad.source}:{bad.offset}"
