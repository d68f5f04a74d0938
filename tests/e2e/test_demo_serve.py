"""``vigil demo --serve --port 0``: prints the console URL, serves it, stops on Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from engine.scenario import generate_scenario

ROOT = Path(__file__).resolve().parents[2]


def test_demo_serve_prints_a_working_url_and_stops_on_interrupt() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "connectors", "demo", "--serve", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        urls: list[str] = []
        deadline = time.monotonic() + 60
        while len(urls) < 2 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            urls += re.findall(r"console: (http://\S+)", line)
        assert len(urls) == 2, "the URL is printed when serving starts and after the summary"
        base = urls[1].split("#")[0]
        assert "Vigil" in httpx.get(base, timeout=5).text
        listed = httpx.get(f"{base}api/v1/console/incidents", timeout=5).json()["incidents"]
        root = generate_scenario(seed=7).truth.root_cause  # the demo's default seed
        assert any(i["top_cause"]["node"] == root for i in listed)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
