"""A worker with ``runtime.max_series`` refuses, evicts and counts series like the replay.

One metrics partition, one host, a cap of 2 live series idle-evicted after 10 minutes:

* minutes 0-59: ``cpu_1``, ``cpu_2``, ``cpu_3``; ``cpu_3`` is past the cap (60 points
  refused; its spike at minute 45 is never seen);
* minutes 60-99: ``cpu_2`` alone; ``cpu_1`` goes idle and is evicted (once);
* minutes 100-159: ``cpu_2`` and a new ``cpu_4``, admitted in ``cpu_1``'s freed slot.

The worker's anomalies and its ``vigil_series_dropped_total`` / ``vigil_series_evicted_total``
must equal the replay's on the same records. Before the intake was the pipeline's first stage,
the series guard ran only in the embedded runtime: the worker refused nothing (0 dropped, 0
evicted) and reported ``cpu_3``'s spike, so the "series cap reached" alert could not fire.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest

from connectors.files import JsonlWriter
from connectors.kafka.app import serve
from connectors.kafka.config import Topics
from connectors.kafka.telemetry import METRICS
from connectors.metrics import VigilMetrics
from connectors.replay import ReplayOptions, replay
from connectors.rulefiles import load_rules
from tests.integration.kafka_io import T0, create_topics, key_of, produce, read_topic, worker_config

pytestmark = pytest.mark.integration

RULES = (
    "correlation:\n  confirm_s: 0\n"
    "runtime:\n  idle_source: 2s\n  max_series: 2\n  series_idle: 10m\n"
)
SPIKES = {("cpu_1", 50), ("cpu_3", 45), ("cpu_2", 130), ("cpu_4", 150)}


def _records() -> list[dict[str, Any]]:
    out = []
    for minute in range(160):
        names = ["cpu_1", "cpu_2", "cpu_3"] if minute < 60 else ["cpu_2"]
        if minute >= 100:
            names.append("cpu_4")
        for name in names:
            value = 10.0 + (minute * 7 + len(name)) % 5 * 0.2
            value += 60.0 if (name, minute) in SPIKES else 0.0
            labels = {"service": "svc", "host": "node-1", "cluster": "c0"}
            out.append({"ts": T0 + 60.0 * minute, "name": name, "value": value, "labels": labels})
    return out


def _counts(registry: Any) -> tuple[float, float]:
    labels = {"kind": "metrics"}
    dropped = registry.get_sample_value("vigil_series_dropped_total", labels) or 0.0
    evicted = registry.get_sample_value("vigil_series_evicted_total", labels) or 0.0
    return dropped, evicted


def _replay(records: list[dict[str, Any]], rules: Path, tmp: Path) -> tuple[set[str], Any]:
    folder, out = tmp / "scenario", tmp / "out"
    with JsonlWriter(folder / "metrics.jsonl") as writer:
        for record in records:
            writer.write(record)
    metrics = VigilMetrics()
    replay(folder, out, load_rules([rules]), lambda a: a, ReplayOptions(metrics=metrics))
    anomalies = [orjson.loads(line) for line in (out / "anomalies.jsonl").read_bytes().split()]
    return {a["id"] for a in anomalies}, _counts(metrics.registry)


async def _worker(bootstrap: str, records: list[dict[str, Any]], rules: Path,
                  expected: set[str]) -> tuple[list[dict[str, Any]], tuple[float, float]]:
    tag = uuid.uuid4().hex[:8]
    cfg = worker_config(bootstrap, Topics(prefix=f"t{tag}."), f"g{tag}",
                        rules_path=str(rules), partitions=1)
    await create_topics(cfg)
    before = _counts(METRICS.registry)
    stop = asyncio.Event()
    worker = asyncio.create_task(serve(cfg, stop))
    items = [(key_of(r), orjson.dumps(r)) for r in records]
    await produce(bootstrap, cfg.topics.name("metrics"), items, rate_per_s=300)
    anomalies = await read_topic(
        bootstrap, cfg.topics.name("anomalies"), lambda got: {a["id"] for a in got} >= expected
    )
    # the last batch's counts are in once the worker's watermark reached the last minute
    await read_topic(bootstrap, cfg.topics.name("anomalies"), lambda _: False, 1.0)
    stop.set()
    await asyncio.wait_for(worker, 20)
    after = _counts(METRICS.registry)
    return anomalies, (after[0] - before[0], after[1] - before[1])


async def test_a_worker_caps_evicts_and_counts_series_like_the_replay(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    records = _records()
    embedded, embedded_counts = _replay(records, rules, tmp_path)
    assert embedded_counts == (60.0, 1.0)  # cpu_3 refused each minute; cpu_1 evicted once
    anomalies, worker_counts = await _worker(kafka_bootstrap, records, rules, embedded)
    assert {a["id"] for a in anomalies} == embedded
    assert worker_counts == embedded_counts
    names = {a["subject"]["name"] for a in anomalies}
    assert "cpu_3" not in names, "a refused series is never detected"
    assert "cpu_4" in names, "a series admitted after an eviction is"
