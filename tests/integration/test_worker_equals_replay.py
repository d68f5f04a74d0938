"""Workers give ``vigil replay``'s anomalies, incidents and actions on a generated scenario.

A scenario of the end-to-end benchmark (raw metrics, logs, alerts, changes and a topology; a
flapping fault, so incidents open, change, resolve and re-open and pages are sent, updated,
repeated and resolved) is replayed once, then put onto a real broker (``vigil load``'s records,
keys and event-time timestamps) and read by:

* one worker;
* two worker processes in one consumer group;
* two worker processes, one of them SIGKILLed mid-stream while both catch up a backlog.

* a worker that read half the input without saving it, SIGKILLed, and the next one.

Each run must give the replay's anomaly ids, incident ids with their members and last top
cause, and decided action ids with their event times. Repeats after a crash are allowed, but
never one id with other content, and no ``late: ...`` dead letters (what is re-read after a
crash is a re-delivery, not late data). ``forget_after_s`` (the incident stage's de-duplication
horizon) is 10 minutes, so that losing minutes of event time in a crash is enough to show it.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from benchmarks.e2e.generate import Knobs, generate
from benchmarks.e2e.run import write_folder
from connectors.cli import main
from connectors.files import ReadProgress
from connectors.kafka.app import serve
from connectors.kafka.config import Topics
from connectors.kafka.scenario_load import LoadRecord, scenario_records
from tests.integration.kafka_io import (
    STALL_S,
    Patience,
    create_topics,
    read_topic,
    worker_config,
)
from tests.integration.test_chaos import _names
from tests.integration.test_chaos_sigkill import _wait_for_progress, _worker_yaml
from tests.integration.test_kafka_group import _spawn_worker

pytestmark = pytest.mark.integration

RULES = """\
correlation:
  confirm_s: 0
  forget_after_s: 10m
runtime:
  idle_source: 2s
routing:
  receivers:
    - {name: console, type: console}
  route: {receiver: console, group_wait: 30s, group_interval: 60s, repeat_interval: 10m}
"""
Record = dict[str, Any]
EVERY_HALF_SECOND = "checkpoint_interval_s: 0.5"
"""The checkpoint interval ``_worker_yaml`` writes; the crash tests replace it."""
KILL_AFTER_S = 5400.0
"""Worker 0 is killed once every anomaly of the scenario's first 90 minutes is out."""


def _scenario(folder: Path) -> None:
    """2 h, 12 services, a flapping fault after 1.2 h: ~13k records, a dozen incidents."""
    knobs = Knobs(hours=(2.0, 2.0), services=(12, 12), fault_after_h=(1.2, 1.2))
    scenario = generate(2, "flapping", knobs)
    write_folder(folder, scenario.graph.topology(), scenario.records)


def _jsonl(path: Path) -> list[Record]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def _same_content(records: Iterable[Record], key: tuple[str, ...]) -> dict[object, Record]:
    """Records by ``key``; a key seen again must come with the same content."""
    seen: dict[object, Record] = {}
    for record in records:
        k = tuple(record.get(part) for part in key)
        assert seen.setdefault(k, record) == record, f"{k}: {seen[k]} then {record}"
    return seen


def _incidents(records: list[Record]) -> dict[str, tuple[frozenset[str], str]]:
    """Incident id -> (every member it ever listed, its last top cause)."""
    members: dict[str, set[str]] = {}
    top: dict[str, tuple[int, str]] = {}
    for record in records:
        members.setdefault(record["id"], set()).update(record["alerts"])
        cause = record["root_causes"][0]["node"] if record["root_causes"] else ""
        if record["revision"] >= top.get(record["id"], (-1, ""))[0]:
            top[record["id"]] = (record["revision"], cause)
    return {i: (frozenset(m), top[i][1]) for i, m in members.items()}


def _actions(records: list[Record]) -> dict[str, tuple[float, str, str]]:
    """Action id -> (event time, incident, receiver) of the decided records (the replay writes
    one final record per action, the worker the decided one and then its outcome)."""
    decided = [r for r in records if r["status"] == "decided" or "payload" not in r]
    return {a["id"]: (a["ts"], a["incident"], a["receiver"]) for a in decided}


class Replayed:
    """What ``vigil replay`` wrote for the scenario."""

    def __init__(self, out: Path) -> None:
        self.anomaly_ts = {a["id"]: a["ts"] for a in _jsonl(out / "anomalies.jsonl")}
        self.anomalies = set(self.anomaly_ts)
        self.incidents = _incidents(_jsonl(out / "incidents.jsonl"))
        self.actions = _actions(_jsonl(out / "actions.jsonl"))
        self.members = {m for members, _ in self.incidents.values() for m in members}


async def _replay(tmp_path: Path) -> tuple[Path, Path, Replayed]:
    folder, rules = tmp_path / "in", tmp_path / "rules.yaml"
    _scenario(folder)
    rules.write_text(RULES)
    args = ["replay", str(folder), "--out", str(tmp_path / "out"), "--rules", str(rules)]
    assert await asyncio.to_thread(main, [*args, "--quiet"]) == 0
    replayed = Replayed(tmp_path / "out")
    assert len(replayed.incidents) >= 5
    assert len(replayed.actions) >= 5
    return folder, rules, replayed


async def _produce(bootstrap: str, topics: Topics, records: list[LoadRecord]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        for rec in records:
            await producer.send(
                topics.name(rec.topic), rec.value, key=rec.key, timestamp_ms=rec.timestamp_ms
            )
        await producer.flush()
    finally:
        await producer.stop()


async def _outputs(bootstrap: str, topics: Topics, want: Replayed) -> dict[str, list[Record]]:
    """Every output once the replay's anomalies, incident members and action ids are out and
    nothing new came for a few seconds (each wait gives up after ``STALL_S`` without progress)."""
    out = {
        "anomalies": await read_topic(
            bootstrap,
            topics.name("anomalies"),
            lambda got: {a["id"] for a in got} >= want.anomalies,
            STALL_S,
        )
    }
    out["incidents"] = await read_topic(
        bootstrap,
        topics.name("incidents"),
        lambda got: {m for r in got for m in r["alerts"]} >= want.members,
        STALL_S,
    )
    out["actions"] = await read_topic(
        bootstrap,
        topics.name("actions"),
        lambda got: set(_actions(got)) >= set(want.actions),
        STALL_S,
    )
    await _settle(bootstrap, topics)  # the tail: whatever comes after the replay's last output
    for name in ("anomalies", "incidents", "actions", "dlq"):
        out[name] = await read_topic(bootstrap, topics.name(name), lambda _: False, 1.0)
    return out


async def _settle(bootstrap: str, topics: Topics, quiet_s: float = 4.0) -> None:
    """Until the output topics have not grown for ``quiet_s`` (idle_source 2 s + a poll)."""
    patience, sizes, last = Patience(STALL_S), None, asyncio.get_running_loop().time()
    while not patience.expired(sizes):
        now = [
            len(await read_topic(bootstrap, topics.name(n), lambda _: False, 0.3))
            for n in ("incidents", "actions")
        ]
        if now != sizes:
            sizes, last = now, asyncio.get_running_loop().time()
        elif asyncio.get_running_loop().time() - last >= quiet_s:
            return
        await asyncio.sleep(0.5)


def _check(out: dict[str, list[Record]], want: Replayed) -> None:
    late = [r for r in out["dlq"] if "late" in str(r)]
    assert not late, late[:3]
    anomalies = _same_content(out["anomalies"], ("id",))
    _same_content(out["incidents"], ("id", "revision"))
    actions = [a for a in out["actions"] if a["status"] == "decided"]
    _same_content(actions, ("id",))
    assert {k[0] for k in anomalies} == want.anomalies
    assert _incidents(out["incidents"]) == want.incidents
    assert _actions(out["actions"]) == want.actions


async def test_one_worker_gives_the_replays_anomalies_incidents_and_actions(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    folder, rules, want = await _replay(tmp_path)
    topics, group = _names()
    cfg = worker_config(kafka_bootstrap, topics, group, rules_path=str(rules))
    await create_topics(cfg)
    await _produce(kafka_bootstrap, topics, list(scenario_records(folder, ReadProgress())))
    stop = asyncio.Event()
    worker = asyncio.create_task(serve(cfg, stop))
    try:
        out = await _outputs(kafka_bootstrap, topics, want)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 30)
    _check(out, want)


async def _two_workers(
    bootstrap: str, tmp_path: Path, *, kill: bool
) -> tuple[dict[str, list[Record]], Replayed]:
    """Two worker processes: the input's first quarter, then (once both hold partitions) the
    rest. With ``kill``, worker 0 checkpoints every 3 s and is SIGKILLed while the rest is
    read, once the outputs show event time past ``KILL_AFTER_S``: what it did since its last
    checkpoint is re-done by the survivor."""
    folder, rules, want = await _replay(tmp_path)
    topics, group = _names()
    await create_topics(worker_config(bootstrap, topics, group, rules_path=str(rules)))
    configs = [
        _worker_yaml(tmp_path / f"worker{i}.yaml", bootstrap, topics.prefix, group, rules)
        for i in range(2)
    ]
    if kill:  # seconds of a catch-up lost: many minutes of event time
        text = configs[0].read_text().replace(EVERY_HALF_SECOND, "checkpoint_interval_s: 3.0")
        configs[0].write_text(text)
    logs = [tmp_path / f"worker{i}.log" for i in range(2)]
    records = list(scenario_records(folder, ReadProgress()))
    cut = len(records) // 4
    workers = [_spawn_worker(config, log) for config, log in zip(configs, logs, strict=True)]
    try:
        await _produce(bootstrap, topics, records[:cut])
        await _wait_for_progress(logs[1:])  # worker 1 holds a share: worker 0 the rest
        feeding = asyncio.create_task(_produce(bootstrap, topics, records[cut:]))
        if kill:
            start = records[0].timestamp_ms / 1000.0
            early = {a for a, ts in want.anomaly_ts.items() if ts < start + KILL_AFTER_S}
            await read_topic(
                bootstrap,
                topics.name("anomalies"),
                lambda got: {a["id"] for a in got} >= early,
                STALL_S,
            )
            os.kill(workers[0].pid, signal.SIGKILL)
        await feeding
        out = await _outputs(bootstrap, topics, want)
    finally:
        for w in workers:
            if w.poll() is None:
                os.kill(w.pid, signal.SIGTERM)
                w.wait(timeout=30)
    return out, want


async def test_two_workers_give_the_replays_anomalies_incidents_and_actions(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    out, want = await _two_workers(kafka_bootstrap, tmp_path, kill=False)
    _check(out, want)


async def test_a_sigkill_mid_stream_gives_the_replays_anomalies_incidents_and_actions(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    out, want = await _two_workers(kafka_bootstrap, tmp_path, kill=True)
    _check(out, want)


async def test_a_worker_killed_with_unsaved_progress_gives_no_late_dead_letters(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """The backlog case: a worker with rare checkpoints reads the second half of the input
    and is SIGKILLed before saving it. Its watermark marks for that half are already in
    ``incident-in``; the next worker restores the first half's snapshots and re-reads it. Were
    those marks ahead of the saved state, the incident stage would move on before the
    re-read and dead-letter the re-detected anomalies as too late (they are re-deliveries)."""
    folder, rules, want = await _replay(tmp_path)
    topics, group = _names()
    cfg = worker_config(kafka_bootstrap, topics, group, rules_path=str(rules))
    await create_topics(cfg)
    records = list(scenario_records(folder, ReadProgress()))
    half = len(records) // 2
    cut = records[half].timestamp_ms / 1000.0 - 600.0
    first = {a for a, ts in want.anomaly_ts.items() if ts < cut}
    await _produce(kafka_bootstrap, topics, records[:half])
    stop = asyncio.Event()
    worker = asyncio.create_task(serve(cfg, stop))
    await read_topic(
        kafka_bootstrap, topics.name("anomalies"), lambda got: {a["id"] for a in got} >= first
    )
    stop.set()
    await asyncio.wait_for(worker, 30)  # a clean stop: the first half is saved

    config = _worker_yaml(tmp_path / "worker.yaml", kafka_bootstrap, topics.prefix, group, rules)
    config.write_text(
        config.read_text().replace(EVERY_HALF_SECOND, "checkpoint_interval_s: 3600.0")
    )
    unsaved = _spawn_worker(config, tmp_path / "unsaved.log")
    try:
        await _produce(kafka_bootstrap, topics, records[half:])
        await read_topic(  # it has read the whole second half: then it dies unsaved
            kafka_bootstrap,
            topics.name("anomalies"),
            lambda got: {a["id"] for a in got} >= want.anomalies,
            STALL_S,
        )
    finally:
        os.kill(unsaved.pid, signal.SIGKILL)
        unsaved.wait(timeout=30)
    stop = asyncio.Event()
    worker = asyncio.create_task(serve(cfg, stop))
    try:
        out = await _outputs(kafka_bootstrap, topics, want)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 30)
    _check(out, want)
