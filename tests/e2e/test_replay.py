"""End to end: a generated scenario through ``vigil replay`` (files in, files out)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from connectors.cli import main
from connectors.files import write_scenario
from testing.scenarios.shop import Scenario, generate_scenario


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return generate_scenario(seed=11)


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory, scenario: Scenario) -> Path:
    base = tmp_path_factory.mktemp("replay")
    write_scenario(base / "in", scenario.records, scenario.topology)
    with (base / "in" / "metrics.jsonl").open("ab") as f:  # bad input must not stop the run
        f.write(b'{"ts": 1764115200, "name": "cpu", "value": "NaN", "labels": {}}\n')
        f.write(b"\xff\xfe not json\n")
    assert main(["replay", str(base / "in"), "--out", str(base / "out"), "--quiet"]) == 0
    return base / "out"


def _read(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def _final_incidents(out: Path) -> dict[str, dict]:
    final: dict[str, dict] = {}
    for record in _read(out / "incidents.jsonl"):
        final[record["id"]] = record
    return final


def _fault_incident(out: Path, scenario: Scenario) -> dict:
    anomalies = {a["id"]: a for a in _read(out / "anomalies.jsonl")}
    root_ids = {
        i
        for i, a in anomalies.items()
        if a["node"] == scenario.truth.root_cause and a["ts"] >= scenario.truth.fault_at
    }
    assert root_ids, "the injected fault produced no anomaly on the root cause"
    holders = [inc for inc in _final_incidents(out).values() if root_ids & set(inc["alerts"])]
    assert len(holders) == 1, "the root cause's anomalies must land in exactly one incident"
    return holders[0]


def test_injected_root_cause_is_ranked_first(replayed: Path, scenario: Scenario) -> None:
    incident = _fault_incident(replayed, scenario)
    top = incident["root_causes"][0]
    assert top["node"] == scenario.truth.root_cause
    assert top["evidence"], "the top cause must carry evidence"


def test_unrelated_noise_is_not_in_the_fault_incident(replayed: Path, scenario: Scenario) -> None:
    anomalies = {a["id"]: a for a in _read(replayed / "anomalies.jsonl")}
    incident = _fault_incident(replayed, scenario)
    nodes = {anomalies[i]["node"] for i in incident["alerts"] if i in anomalies}
    assert scenario.truth.noise_service not in nodes
    noise = [a for a in anomalies.values() if a["node"] == scenario.truth.noise_service]
    assert noise, "the noise spike should itself be detected"


def test_bad_lines_become_dead_letters_with_reasons(replayed: Path) -> None:
    dead = _read(replayed / "dead_letters.jsonl")
    reasons = [d["error"] for d in dead]
    assert any(r.startswith("value:") for r in reasons)
    assert any("UTF-8" in r or "JSON" in r for r in reasons)
    assert all(d["source"] == "metrics.jsonl" and d["offset"] for d in dead)


def test_actions_were_decided_and_delivered(replayed: Path, scenario: Scenario) -> None:
    incident = _fault_incident(replayed, scenario)
    actions = [a for a in _read(replayed / "actions.jsonl") if a["incident"] == incident["id"]]
    assert actions
    assert all(a["status"] == "delivered" for a in actions)


def test_replay_twice_gives_the_same_ids(
    replayed: Path, tmp_path: Path, scenario: Scenario
) -> None:
    write_scenario(tmp_path / "in", scenario.records, scenario.topology)
    assert main(["replay", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    for name in ("anomalies", "incidents", "actions"):
        first = [r["id"] for r in _read(replayed / f"{name}.jsonl")]
        second = [r["id"] for r in _read(tmp_path / "out" / f"{name}.jsonl")]
        assert first == second, name
