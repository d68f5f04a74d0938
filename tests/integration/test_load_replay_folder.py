"""``vigil load SCENARIO_DIR`` + a worker give ``vigil replay``'s outputs on the same folder.

A small generated scenario (metrics, logs, changes, topology, plus two alerts) is loaded onto a
real broker with the CLI, a worker reads it, and its anomalies and incidents (ids, members, top
cause) are compared with ``vigil replay``'s. Before ``vigil load`` there was no way to do this
from the command line, and a topology produced without ``ts`` took the producer's wall-clock
record time: the incident stage (which releases events in event time) never applied it to
historical events, so incidents split and top causes changed.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest

from connectors.cli import main
from connectors.files import write_scenario
from connectors.kafka.app import serve
from connectors.kafka.config import Topics
from testing.scenarios.shop import generate_scenario
from tests.integration.kafka_io import read_topic, worker_config

pytestmark = pytest.mark.integration

RULES = "correlation:\n  confirm_s: 0\nruntime:\n  idle_source: 2s\n"


def _scenario(folder: Path) -> None:
    scenario = generate_scenario(seed=11, hours=1.0, n_services=8, n_hosts=3)
    write_scenario(folder, scenario.records, scenario.topology)
    at, cause = scenario.truth.fault_at, scenario.truth.root_cause
    alerts = [
        {"ts": at + 90, "name": "HighLatency", "severity": "critical", "fingerprint": "a1",
         "labels": {"service": cause, "cluster": "eu-1"}},
        {"ts": at + 150, "name": "HighErrorRate", "severity": "warning", "fingerprint": "a2",
         "labels": {"service": "web", "cluster": "eu-1"}},
    ]  # fmt: skip
    (folder / "alerts.jsonl").write_bytes(b"".join(orjson.dumps(a) + b"\n" for a in alerts))
    with (folder / "changes.jsonl").open("ab") as changes:  # a bad line: reported, not produced
        changes.write(orjson.dumps({"ts": at + 3000, "kind": "deploy"}) + b"\n")


def _incidents(records: list[dict[str, Any]]) -> dict[str, tuple[frozenset[str], str]]:
    """Incident id -> (every member it ever listed, its last top cause)."""
    members: dict[str, set[str]] = {}
    top: dict[str, str] = {}
    for record in records:
        members.setdefault(record["id"], set()).update(record["alerts"])
        top[record["id"]] = record["root_causes"][0]["node"] if record["root_causes"] else ""
    return {i: (frozenset(m), top[i]) for i, m in members.items()}


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


async def test_loaded_scenario_gives_the_replays_anomalies_and_incidents(
    kafka_bootstrap: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, rules = tmp_path / "in", tmp_path / "rules.yaml"
    _scenario(folder)
    rules.write_text(RULES)
    replay_args = ["replay", str(folder), "--out", str(tmp_path / "out"), "--rules", str(rules)]
    # the CLI runs its own event loop: in a thread, as a user runs it beside the worker
    assert await asyncio.to_thread(main, [*replay_args, "--quiet"]) == 0
    replay_anomalies = {a["id"] for a in _jsonl(tmp_path / "out" / "anomalies.jsonl")}
    replay_incidents = _incidents(_jsonl(tmp_path / "out" / "incidents.jsonl"))
    assert len(replay_incidents) >= 2, "the scenario must open incidents"
    assert any({"am-a1", "am-a2"} <= m for m, _ in replay_incidents.values()), "alerts must join"

    tag = uuid.uuid4().hex[:8]
    topics = Topics(prefix=f"t{tag}.")
    cfg = worker_config(kafka_bootstrap, topics, f"g{tag}", rules_path=str(rules))
    config = tmp_path / "worker.yaml"
    config.write_text(
        f"bootstrap_servers: {kafka_bootstrap}\npartitions: 4\ntopics:\n  prefix: t{tag}.\n"
    )
    assert await asyncio.to_thread(main, ["load", str(folder), "--config", str(config)]) == 1
    assert "load: changes.jsonl:3: service: required" in capsys.readouterr().err

    stop = asyncio.Event()
    worker = asyncio.create_task(serve(cfg, stop))
    anomalies = await read_topic(
        kafka_bootstrap,
        topics.name("anomalies"),
        lambda got: {a["id"] for a in got} >= replay_anomalies,
    )
    await asyncio.sleep(3.0)  # every source goes idle: the incident stage releases the tail
    incidents = await read_topic(kafka_bootstrap, topics.name("incidents"), lambda _: False, 3.0)
    dlq = await read_topic(kafka_bootstrap, topics.name("dlq"), lambda _: False, 1.0)
    stop.set()
    await asyncio.wait_for(worker, 20)

    assert dlq == []
    worker_incidents = _incidents(incidents)
    # the topology was applied: web (which calls the faulty service) joins its incident
    assert any({"am-a1", "am-a2"} <= members for members, _ in worker_incidents.values())
    assert {a["id"] for a in anomalies} == replay_anomalies
    assert worker_incidents == replay_incidents
