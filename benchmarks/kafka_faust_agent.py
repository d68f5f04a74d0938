"""Baseline for kafka_throughput: a plain faust-streaming agent doing decode + EWMA per record.

Run by the benchmark as a subprocess: ``python -m benchmarks.kafka_faust_agent BOOTSTRAP TOPIC N
TAKE``. Prints one JSON line ``{"records": N, "seconds": s, "cpu_seconds": c}`` (first record
to N-th; c is the process CPU time, all threads) and exits.
TAKE > 0 uses ``stream.take(TAKE, within=0.05)``; 0 iterates record by record.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

import faust
import orjson


def main() -> None:
    bootstrap, topic_name, total, take = (
        sys.argv[1],
        sys.argv[2],
        int(sys.argv[3]),
        int(sys.argv[4]),
    )
    app = faust.App(
        f"bench-faust-{os.getpid()}",
        broker=f"kafka://{bootstrap}",
        value_serializer="raw",
        topic_allow_declare=False,
        topic_disable_leader=True,
        web_enabled=False,
        stream_wait_empty=False,
        consumer_auto_offset_reset="earliest",
        datadir=tempfile.mkdtemp(prefix="bench-faust-"),
    )
    topic = app.topic(topic_name, value_serializer="raw", internal=False)
    ewma: dict[str, list[float]] = {}
    progress = {"n": 0, "t0": 0.0, "c0": 0.0}

    def handle(raw: bytes) -> None:
        rec = orjson.loads(raw)
        key = rec["name"] + repr(sorted(rec["labels"].items()))
        mean = ewma.setdefault(key, [rec["value"]])
        mean[0] += 0.05 * (rec["value"] - mean[0])

    def start(progress: dict[str, float]) -> None:
        if not progress["t0"]:
            progress["t0"], progress["c0"] = time.perf_counter(), time.process_time()

    def finish() -> None:
        seconds = time.perf_counter() - progress["t0"]
        cpu = time.process_time() - progress["c0"]
        print(json.dumps({"records": progress["n"], "seconds": seconds, "cpu_seconds": cpu}))
        sys.stdout.flush()
        os._exit(0)

    @app.agent(topic)
    async def consume(stream):  # type: ignore[no-untyped-def]
        if take:
            async for batch in stream.take(take, within=0.05):
                start(progress)
                for raw in batch:
                    handle(raw)
                progress["n"] += len(batch)
                if progress["n"] >= total:
                    finish()
        else:
            async for raw in stream:
                start(progress)
                handle(raw)
                progress["n"] += 1
                if progress["n"] >= total:
                    finish()

    sys.argv = [sys.argv[0], "worker", "-l", "warn", "--without-web"]
    app.main()


if __name__ == "__main__":
    main()
