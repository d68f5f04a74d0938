"""``vigil demo --serve --port 0``: prints the console URL, serves it, stops on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from testing.processes import ctrl_c_enabled
from testing.scenarios.shop import generate_scenario

ROOT = Path(__file__).resolve().parents[2]


def test_demo_serve_prints_a_working_url_and_stops_on_interrupt() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "connectors", "demo", "--serve", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,        preexec_fn=ctrl_c_enabled,
    )
    try:
        assert proc.stdout is not None
        urls: list[str] = []
        for line in proc.stdout:  # until the second URL, or the end of its output
            urls += re.findall(r"console: (http://\S+)", line)
            if len(urls) == 2:
                break
        assert len(urls) == 2, "the URL is printed when serving starts and after the summary"
        base = urls[1].split("#")[0]
        assert "Vigil" in httpx.get(base, timeout=5).text
        listed = httpx.get(f"{base}api/v1/console/incidents", timeout=5).json()["incidents"]
        root = generate_scenario(seed=7).truth.root_cause  # the demo's default seed
        assert any(i["top_cause"]["node"] == root for i in listed)
        proc.send_signal(signal.SIGINT)
        assert proc.wait() == 0  # a hang is left to pytest-timeout, not a guess of load
    finally:
        if proc.poll() is None:
            proc.kill()


def _serve_with(args: list[str], env: dict[str, str], cwd: Path) -> tuple[str, str, int, int]:
    """Start ``vigil demo --serve`` with ``args``; ``(printed line, base URL, status of a write
    with the chosen token, status with another)``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    for name in ("VIGIL_API_TOKEN", "VIGIL_TOKEN"):
        if name not in env or not env[name]:
            env.pop(name, None)
    command = [sys.executable, "-m", "connectors", "demo", "--serve", "--port", "0", *args]
    proc = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert proc.stdout is not None
        line = next((line for line in proc.stdout if "console: " in line), "")
        base = re.findall(r"console: (http://[^/\s]+)", line)[0]

        def write(token: str) -> int:
            headers = {"Authorization": f"Bearer {token}"}
            url = f"{base}/api/v1/silences/nope"
            return httpx.delete(url, headers=headers, timeout=10).status_code

        return line, base, write(CHOSEN), write("some-other-token-value")
    finally:
        proc.kill()
        proc.wait()


CHOSEN = "scripted-token-0123456789"


def test_serve_uses_a_token_from_a_file_and_does_not_print_it(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(CHOSEN + "\n")
    line, _, chosen, other = _serve_with(["--token-file", str(token_file)], {}, tmp_path)
    assert (chosen, other) == (404, 401)  # 404: authorized, no such silence
    assert CHOSEN not in line


def test_serve_uses_a_token_from_the_environment(tmp_path: Path) -> None:
    _, _, chosen, other = _serve_with([], {"VIGIL_API_TOKEN": CHOSEN}, tmp_path)
    assert (chosen, other) == (404, 401)
    _, _, chosen, other = _serve_with(["--token", CHOSEN], {}, tmp_path)
    assert (chosen, other) == (404, 401)
