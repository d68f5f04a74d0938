"""Chaos: after each disturbance the outputs equal an undisturbed run's (same anomaly and
incident ids, every action delivered exactly once).

* receiver outage during an embedded run (the embedded runtime's SQLite outbox; the worker's
  dispatcher is covered by ``test_worker_delivery.py``);
* a burst at 10x the normal input rate into a Kafka worker;
* SIGKILL of one of two worker processes mid-stream: ``test_chaos_sigkill.py`` (anomaly ids,
  incident ids and every incident's members equal an undisturbed run's; the incident stage runs
  in event time behind the upstream partitions' watermarks, see deploy/README.md);
* a broker restart: ``test_chaos_broker_restart.py``, on a broker with durable storage (Tansu
  on S3 served by moto; the session broker here keeps everything in memory, so a restart of it
  loses every topic, committed offset and checkpoint).
"""

from __future__ import annotations

import asyncio
import io
import uuid
from collections import Counter
from pathlib import Path

import orjson
import pytest

from connectors.files import write_scenario
from connectors.kafka.app import serve
from connectors.kafka.config import Topics
from connectors.metrics import VigilMetrics
from connectors.replay import ReplayOptions, ReplayResult, replay
from connectors.retry import Backoff
from connectors.sender import OutboxDeliverer
from engine.rules import parse
from testing.scenarios.shop import generate_scenario
from tests.integration.kafka_io import (
    create_topics,
    expected_anomaly_ids,
    key_of,
    metric_records,
    produce,
    read_incidents,
    read_topic,
    worker_config,
)
from tests.integration.receivers import Receiver

pytestmark = pytest.mark.integration


def _hook_rules(url: str) -> str:
    return f"""
routing:
  receivers:
    - {{name: hook, type: webhook, url: "{url}/hook", secret_env: T_HMAC, timeout: 2s}}
  route:
    receiver: hook
    group_wait: 0s
    group_interval: 0s
    repeat_interval: 0s
"""


def _deliverer(out: Path, url: str, metrics: VigilMetrics) -> OutboxDeliverer:
    return OutboxDeliverer(
        parse(_hook_rules(url)).routing,
        out,
        env={"T_HMAC": "chaos-key"},
        stream=io.StringIO(),
        backoff=Backoff(0.5, 2.0),
        metrics=metrics,
    )


def _replay(folder: Path, out: Path, url: str) -> tuple[ReplayResult, VigilMetrics]:
    rules = parse(_hook_rules(url))
    metrics = VigilMetrics()
    deliver = _deliverer(out, url, metrics)
    return replay(folder, out, rules, deliver, ReplayOptions(metrics=metrics)), metrics


def _ids(out: Path, name: str) -> list[str]:
    return [orjson.loads(line)["id"] for line in (out / f"{name}.jsonl").read_bytes().splitlines()]


def test_receiver_outage_delays_but_neither_loses_nor_duplicates_deliveries(
    tmp_path: Path, receiver: Receiver
) -> None:
    scenario = generate_scenario(seed=11)
    write_scenario(tmp_path / "in", scenario.records, scenario.topology)
    calm, _ = _replay(tmp_path / "in", tmp_path / "calm", receiver.url)
    calm_sent = [orjson.loads(r.body)["action"]["id"] for r in receiver.accepted()]
    receiver.requests.clear()

    # the outage: the first requests get 503, however slowly a loaded machine replays (a fixed
    # 2-s window of wall time could end before the first action was decided)
    receiver.script = [503] * 4
    stormy, metrics = _replay(tmp_path / "in", tmp_path / "storm", receiver.url)
    # what still waited for a retry at the end stayed in the outbox: the next run sends it
    later = _deliverer(tmp_path / "storm", receiver.url, metrics)
    late = later([]) + later.flush(60.0) + later.close()
    accepted = [orjson.loads(r.body)["action"]["id"] for r in receiver.accepted()]

    assert any(r.status == 503 for r in receiver.requests), "the outage must hit a delivery"
    for name in ("anomalies", "incidents"):
        assert _ids(tmp_path / "storm", name) == _ids(tmp_path / "calm", name)
    assert calm_sent
    assert sorted(accepted) == sorted(calm_sent)
    assert max(Counter(accepted).values()) == 1  # no duplicate deliveries
    finals = {a.id: a.status.value for a in stormy.actions + late}
    assert finals == {a.id: "delivered" for a in calm.actions}
    assert metrics.delivery_retries.labels(receiver="hook")._value.get() > 0
    assert metrics.outbox_depth._value.get() == 0


async def _worker_run(
    bootstrap: str, names: tuple[Topics, str], rules: Path, records: list[dict], rates: list[float]
) -> dict[str, dict[str, set[str]]]:
    """Feed ``records`` into a worker in ``len(rates)`` equal slices, slice i at ``rates[i]``
    records/s; return its anomaly ids and each incident id with the anomalies it gathered."""
    topics, group = names
    cfg = worker_config(bootstrap, topics, group, rules_path=str(rules))
    await create_topics(cfg)
    items = [(key_of(r), orjson.dumps(r)) for r in records]
    stop = asyncio.Event()
    worker = asyncio.create_task(serve(cfg, stop))
    size = -(-len(items) // len(rates))
    for n, rate in enumerate(rates):
        await produce(bootstrap, topics.name("metrics"), items[n * size : (n + 1) * size], rate)
    expected = expected_anomaly_ids(records)
    anomalies = await read_topic(
        bootstrap, topics.name("anomalies"), lambda got: {a["id"] for a in got} >= expected
    )
    ids = {a["id"] for a in anomalies}  # the incident stage catches up through incident-in
    incidents = await read_incidents(bootstrap, topics.name("incidents"), ids)
    stop.set()
    await asyncio.wait_for(worker, 20)
    gathered: dict[str, set[str]] = {}
    for record in incidents:
        gathered.setdefault(record["id"], set()).update(record["alerts"])
    return {"anomalies": {a["id"]: set() for a in anomalies}, "incidents": gathered}


async def test_a_burst_at_ten_times_the_rate_gives_the_same_outputs(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("correlation:\n  confirm_s: 0\nruntime:\n  idle_source: 2s\n")
    records = metric_records(12, 150, seed=31, spikes=8, spikes_from=40)
    normal = 300.0
    calm = await _worker_run(kafka_bootstrap, _names(), rules, records, [normal] * 3)
    burst = await _worker_run(
        kafka_bootstrap, _names(), rules, records, [normal, normal * 10, normal]
    )
    assert calm["anomalies"]
    assert calm["incidents"], "the input must open incidents"
    assert burst["anomalies"].keys() == calm["anomalies"].keys()
    assert burst["incidents"] == calm["incidents"]


def _names() -> tuple[Topics, str]:
    tag = uuid.uuid4().hex[:8]
    return Topics(prefix=f"t{tag}."), f"g{tag}"
