"""What live ingest costs: the demo scenario through ``vigil serve``'s path vs a replay of it.

    python -m benchmarks.serve_ingest [--rounds 5]

Both run the same pipeline on the same records (the demo scenario, seed 7: 14,498 metrics,
logs and changes) in this process, interleaved over ``--rounds``:

* baseline: ``connectors.replay.replay`` of the scenario folder (files, no HTTP);
* candidate: the records posted over HTTP as JSON Lines, 15 minutes of event time per request
  and kind, to the API server with ``vigil serve``'s routes and ``JournalIngest`` (decode,
  journal append + fsync before 202), processed by ``LiveRuntime`` on its own thread with
  ``--clock event``; timed from the first request to the last record processed.

Prints medians, records/s and the ratio (over 1.0: the live path is slower).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import orjson

from connectors.files import write_scenario
from connectors.http.inputs import add_input_routes
from connectors.http.state import AppState
from connectors.http.thread import BackgroundServer
from connectors.replay import replay
from connectors.serve.clock import ServeClock
from connectors.serve.runtime import LiveRuntime, ServeOptions
from engine.events import Action
from engine.rules import RuleSet
from testing.scenarios.shop import generate_scenario

TOKEN = "benchmark-token-0123456789"  # noqa: S105  (a local test server's token)
CHUNK_S = 900.0


def _no_receivers(actions: list[Action]) -> list[Action]:
    return []


def _requests(records: dict[str, list[dict]]) -> list[tuple[str, bytes]]:
    start = min(r["ts"] for rows in records.values() for r in rows)
    out = []
    chunks: dict[tuple[int, str], list[bytes]] = {}
    for kind, rows in records.items():
        for row in rows:
            chunks.setdefault((int((row["ts"] - start) // CHUNK_S), kind), []).append(
                orjson.dumps(row)
            )
    for (_, kind), lines in sorted(chunks.items()):
        out.append((f"/api/v1/{kind}", b"\n".join(lines)))
    return out


def time_replay(folder: Path, out: Path) -> float:
    started = time.perf_counter()
    replay(folder, out, RuleSet(), _no_receivers)
    return time.perf_counter() - started


def time_serve(requests: list[tuple[str, bytes]], topology: bytes, state_dir: Path) -> float:
    options = ServeOptions(clock=ServeClock.EVENT, checkpoint_interval_s=10.0)
    runtime = LiveRuntime(RuleSet(), state_dir, _no_receivers, options)
    state = AppState(token=TOKEN, ingest=runtime.ingest, extra_routes=[add_input_routes])
    stop = threading.Event()
    worker = threading.Thread(target=runtime.serve, args=(stop,))
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/x-ndjson"}
    with BackgroundServer(state) as server, httpx.Client(base_url=server.url) as client:
        worker.start()
        started = time.perf_counter()
        client.post("/api/v1/topology", content=topology, headers=headers)
        for path, body in requests:
            assert client.post(path, content=body, headers=headers).status_code == 202
        end = runtime.journal.end
        while runtime.offset < end:
            time.sleep(0.001)
        elapsed = time.perf_counter() - started
        stop.set()
        worker.join()
    runtime.close(drain_s=0.0)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    scenario = generate_scenario(seed=7)
    records = {kind.value: rows for kind, rows in scenario.records.items()}
    n = sum(len(rows) for rows in records.values())
    start = min(r["ts"] for rows in records.values() for r in rows)
    topology = orjson.dumps({**scenario.topology, "ts": start})
    requests = _requests(records)
    base, cand = [], []
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmp:
        folder = Path(tmp) / "scenario"
        write_scenario(folder, scenario.records, scenario.topology)
        for i in range(args.rounds):
            base.append(time_replay(folder, Path(tmp) / f"replay-{i}"))
            cand.append(time_serve(requests, topology, Path(tmp) / f"serve-{i}"))
        last = args.rounds - 1
        counted = [
            sum(1 for _ in (Path(tmp) / f"{run}-{last}" / "anomalies.jsonl").open("rb"))
            for run in ("replay", "serve")
        ]
    b, c = statistics.median(base), statistics.median(cand)
    print(f"{platform.machine()} py{platform.python_version()} cpus={os.cpu_count()} "
          f"records={n} requests={len(requests) + 1} rounds={args.rounds}")
    print(f"baseline replay      {b * 1e3:8.1f} ms  {n / b:10,.0f} records/s")
    print(f"candidate serve HTTP {c * 1e3:8.1f} ms  {n / c:10,.0f} records/s")
    print(f"ratio {c / b:.2f}x  (anomalies: replay {counted[0]}, serve {counted[1]}; serve's "
          "tail stays held: no end of input)")


if __name__ == "__main__":
    main()
