"""The embedded runtime with its HTTP API: late lines, the series cap, metrics, one silence store.

Each test replays a generated scenario in process while ``ConsoleSession`` serves the API (what
``vigil replay --serve`` does) and reads the results back over HTTP and from the output files.
"""

from __future__ import annotations

import io
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from connectors.console.session import ConsoleSession
from connectors.files import write_scenario
from connectors.metrics import VigilMetrics, vigil_version
from connectors.replay import ReplayOptions, ReplayResult, replay
from connectors.sender import OutboxDeliverer
from connectors.silences import SilenceStore
from engine.rules import RuleSet
from engine.rules.runtime import RuntimeRules
from testing.processes import ctrl_c_enabled
from testing.scenarios.shop import Scenario, generate_scenario

ROOT = Path(__file__).resolve().parents[2]
TOO_LATE_AT, LATE_AT = 4000, 6000  # 0-based positions of the inserted lines in metrics.jsonl


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return generate_scenario(seed=11)


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory, scenario: Scenario) -> dict[str, Path]:
    """``plain``: the scenario as generated; ``late``: plus one too-late and two late lines."""
    base = tmp_path_factory.mktemp("late")
    write_scenario(base / "plain", scenario.records, scenario.topology)
    write_scenario(base / "late", scenario.records, scenario.topology)
    path = base / "late" / "metrics.jsonl"
    rows = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    too_late = {**rows[TOO_LATE_AT], "ts": rows[TOO_LATE_AT]["ts"] - 3600}  # lateness is 300 s
    labels = {**rows[LATE_AT]["labels"], "service": "probe"}  # a new series, same host
    late = {**rows[LATE_AT], "ts": rows[LATE_AT]["ts"] - 150, "labels": labels}
    late2 = {**late, "ts": late["ts"] + 1}
    rows[LATE_AT:LATE_AT] = [late, late2]
    rows[TOO_LATE_AT:TOO_LATE_AT] = [too_late]
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return {"plain": base / "plain", "late": base / "late"}


def _serve_replay(
    folder: Path, out: Path, rules: RuleSet, store: SilenceStore
) -> tuple[ConsoleSession, ReplayResult]:
    session = ConsoleSession.start(silences=store, ready=False)
    assert httpx.get(f"{session.server.url}/readyz", timeout=5).status_code == 503
    options = session.replay_options()
    deliver = OutboxDeliverer(
        rules.routing, out, stream=io.StringIO(), silences=store.load, metrics=options.metrics
    )
    result = replay(folder, out, rules, session.wrap(deliver), options)
    session.sync()
    return session, result


def _samples(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"{url}/metrics", timeout=5).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _read(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, folders: dict[str, Path]
) -> dict[str, tuple[dict, Path]]:
    """Metrics and output folder of the plain and the late replay, each served over HTTP."""
    runs = {}
    for name, folder in folders.items():
        base = tmp_path_factory.mktemp(f"served-{name}")
        session, _ = _serve_replay(folder, base / "out", RuleSet(), SilenceStore(base / "s.json"))
        try:
            assert httpx.get(f"{session.server.url}/readyz", timeout=5).status_code == 200
            runs[name] = (_samples(session.server.url), base / "out")
        finally:
            session.server.stop()
    return runs


def test_late_and_too_late_lines_are_counted_and_dead_lettered(
    served: dict[str, tuple[dict, Path]],
) -> None:
    plain, late = served["plain"][0], served["late"][0]

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return late.get(key, 0.0) - plain.get(key, 0.0)

    assert delta("vigil_late_events_total", lateness="late") == 2
    assert delta("vigil_late_events_total", lateness="too_late") == 1
    assert delta("vigil_dead_letters_total", reason="late") == 1
    assert delta("vigil_records_in_total", topic="metrics.jsonl") == 3
    dead = [
        d for d in _read(served["late"][1] / "dead_letters.jsonl") if d["error"].startswith("late:")
    ]
    assert [(d["source"], d["offset"]) for d in dead] == [("metrics.jsonl", TOO_LATE_AT + 1)]
    assert late[("vigil_records_out_total", (("topic", "dead_letters"),))] == len(
        _read(served["late"][1] / "dead_letters.jsonl")
    )


def test_metrics_count_what_the_replay_wrote(served: dict[str, tuple[dict, Path]]) -> None:
    samples, out = served["plain"]
    for name in ("anomalies", "incidents", "actions"):
        written = len(_read(out / f"{name}.jsonl"))
        assert written > 0
        assert samples[("vigil_records_out_total", (("topic", name),))] == written
    delivered = [a for a in _read(out / "actions.jsonl") if a["status"] == "delivered"]
    assert sum(v for (n, _), v in samples.items() if n == "vigil_receiver_deliveries_total") == len(
        delivered
    )
    assert samples[("vigil_outbox_depth", ())] == 0
    assert samples[("vigil_incidents_open", ())] == 0  # the scenario's incidents all resolve
    assert samples[("vigil_ready", ())] == 1
    latency = {labels for (n, labels) in samples if n == "vigil_stage_latency_seconds_count"}
    assert {(("stage", s),) for s in ("intake", "pipeline", "deliver")} <= latency


def test_state_size_build_info_and_process_metrics_are_served(
    served: dict[str, tuple[dict, Path]],
) -> None:
    samples, _ = served["plain"]
    for stage in ("detect", "incident"):
        assert samples[("vigil_state_size_bytes", (("stage", stage),))] > 1000
    assert samples[("vigil_build_info", (("version", vigil_version()),))] == 1
    assert samples[("process_resident_memory_bytes", ())] > 0
    assert samples[("vigil_event_time_lag_seconds", ())] == 0  # the input is over


def test_event_time_lag_is_the_replay_clock_minus_the_watermark(
    tmp_path: Path, folders: dict[str, Path]
) -> None:
    metrics, lags = VigilMetrics(), []

    def observe(_events: object, _outputs: object) -> None:
        lags.append(metrics.registry.get_sample_value("vigil_event_time_lag_seconds"))

    options = ReplayOptions(metrics=metrics, observe=observe)
    replay(folders["plain"], tmp_path / "out", RuleSet(), lambda _actions: [], options)
    allowed_lateness = RuntimeRules().allowed_lateness  # the watermark trails by at least this
    assert max(lags) >= allowed_lateness
    final = metrics.registry.get_sample_value("vigil_event_time_lag_seconds")
    assert final == 0  # at the end of the input event time moves to the newest event


def test_series_past_the_cap_are_dropped_and_counted(
    tmp_path: Path, folders: dict[str, Path]
) -> None:
    rules = RuleSet(runtime=RuntimeRules(max_series=5))
    session, result = _serve_replay(
        folders["plain"], tmp_path / "out", rules, SilenceStore(tmp_path / "s.json")
    )
    try:
        samples = _samples(session.server.url)
    finally:
        session.server.stop()
    assert samples[("vigil_live_series", (("kind", "metrics"),))] <= 5
    assert samples[("vigil_series_cap", (("kind", "metrics"),))] == 5
    assert samples[("vigil_series_dropped_total", (("kind", "metrics"),))] > 0
    assert result.events_in > 0


def test_a_silence_made_over_http_suppresses_the_replays_actions(
    tmp_path: Path, folders: dict[str, Path], scenario: Scenario
) -> None:
    store = SilenceStore(tmp_path / "silences.json")
    session = ConsoleSession.start(silences=store)
    try:
        created = httpx.post(
            f"{session.server.url}/api/v1/silences",
            json={"matchers": [f"service={scenario.truth.root_cause}"], "duration": "1h"},
            headers={"Authorization": f"Bearer {session.token}"},
            timeout=5,
        )
        assert created.status_code == 201, created.text
    finally:
        session.server.stop()
    assert [s.id for s in SilenceStore(store.path).load()] == [created.json()["id"]]
    _, result = _serve_replay(folders["plain"], tmp_path / "out", RuleSet(), store)
    mine = [
        a
        for a in result.actions
        if a.payload.get("labels", {}).get("service") == scenario.truth.root_cause
    ]
    assert mine
    assert {a.status.value for a in mine} == {"suppressed"}
    assert all(created.json()["id"] in (a.error or "") for a in mine)


def test_vigil_replay_serve_serves_metrics_until_interrupted(
    folders: dict[str, Path], tmp_path: Path
) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "connectors",
            "replay",
            str(folders["late"]),
            "--out",
            str(tmp_path / "out"),
            "--quiet",
            "--serve",
            "--port",
            "0",
        ],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
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
        assert len(urls) == 2
        base = urls[1].split("#")[0].rstrip("/")
        assert httpx.get(f"{base}/readyz", timeout=5).status_code == 200
        samples = _samples(base)
        assert samples[("vigil_dead_letters_total", (("reason", "late"),))] == 1
        proc.send_signal(signal.SIGINT)
        assert proc.wait() == 0  # a hang is left to pytest-timeout, not a guess of load
    finally:
        if proc.poll() is None:
            proc.kill()
