"""End to end: one host's clock skewed must not lose others' data or change the paged incident.

Every host writes its metrics into the same file (one source), so the watermark judges lateness
per producer (host) and a source's event time is robust to one producer ahead or behind.

The demo scenario (seed 11) pages one incident: payments' deploy, 14 anomalies on payments,
accounts, checkout, orders and web. Two hosts are skewed in turn:

* ``node-6`` (reporting, warehouse-loader) holds none of the incident's members: the paged
  incident must come out exactly as unskewed (same id, members, top root cause);
* ``node-1`` holds ``web``: web's metric anomalies move with its clock. By ±2 min the grouping
  absorbs it (same incident); by ±15 min they are 15 minutes away from the rest and fall out of
  the incident — that is the skewed host's own data, correctly placed at the time it claims.
  Every *other* member record (same anomaly id: same series, time and value) and the root
  cause must stay.

In no case may a dead letter appear: the skewed host's events are in order on its own clock,
so none of them deserves one either (before per-producer lateness, +15 min on node-1 turned
7,680 events of the other hosts into ``late:`` dead letters and shrank the incident to 4).

A host further ahead than ``runtime.series_idle`` (1 h) must not make every other host's series
look idle: the series guard's idle clock never passes the pipeline's (robust) event time.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from connectors.cli import main
from connectors.files import write_scenario
from testing.scenarios.shop import Scenario, generate_scenario

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return generate_scenario(seed=11)


def _replay(
    base: Path, scenario: Scenario, host: str, skew_s: float, rules: str | None = None
) -> Path:
    records = {
        kind: [
            {**r, "ts": r["ts"] + skew_s} if r.get("labels", {}).get("host") == host else r
            for r in rows
        ]
        for kind, rows in scenario.records.items()
    }
    write_scenario(base / "in", records, scenario.topology)
    extra = []
    if rules is not None:
        (base / "runtime.yaml").write_text(rules)
        extra = ["--rules", str(ROOT / "rules"), "--rules", str(base / "runtime.yaml")]
    args = ["replay", str(base / "in"), "--out", str(base / "out"), "--quiet", *extra]
    assert main(args) == 0
    return base / "out"


def _read(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []


def _paged(out: Path) -> dict[str, dict]:
    """Final record of each incident that paged (actions were sent for it)."""
    final = {r["id"]: r for r in _read(out / "incidents.jsonl")}
    paged = {a["incident"] for a in _read(out / "actions.jsonl")}
    return {i: final[i] for i in paged}


def _host_nodes(scenario: Scenario, host: str) -> set[str]:
    return {
        r["labels"]["service"]
        for rows in scenario.records.values()
        for r in rows
        if r.get("labels", {}).get("host") == host and "service" in r["labels"]
    }


@pytest.fixture(scope="module")
def unskewed(tmp_path_factory: pytest.TempPathFactory, scenario: Scenario) -> Path:
    return _replay(tmp_path_factory.mktemp("skew0"), scenario, "none", 0.0)


def _members(out: Path, incident: dict, moved: set[str], skew_s: float) -> set[tuple]:
    """The incident's member records with the skew undone: ``(node, kind, subject, ts)``.

    A skewed host's anomaly has another ts, hence another id; this is the record it stands for.
    """
    anomalies = {a["id"]: a for a in _read(out / "anomalies.jsonl")}
    return {
        (
            a["node"],
            a["kind"],
            orjson.dumps(a["subject"], option=orjson.OPT_SORT_KEYS),
            a["ts"] - skew_s if a["node"] in moved else a["ts"],
        )
        for a in (anomalies[i] for i in incident["alerts"])
    }


@pytest.mark.parametrize("skew_s", [900.0, -900.0, 120.0, -120.0])
@pytest.mark.parametrize("host", ["node-6", "node-1"])
def test_one_skewed_host_loses_nothing_and_pages_the_same_incident(
    tmp_path: Path, scenario: Scenario, unskewed: Path, host: str, skew_s: float
) -> None:
    out = _replay(tmp_path, scenario, host, skew_s)
    assert _read(out / "dead_letters.jsonl") == []
    before, after = _paged(unskewed), _paged(out)
    assert len(before) == 1, "the scenario pages its injected incident"
    assert list(after) == list(before)  # same incident id
    (want,), (got,) = before.values(), after.values()
    assert got["root_causes"][0]["node"] == want["root_causes"][0]["node"] == "payments"
    moved = _host_nodes(scenario, host)
    wanted = _members(unskewed, want, set(), 0.0)
    if host == "node-6" or abs(skew_s) <= 120:
        assert _members(out, got, moved, skew_s) == wanted
    else:  # web's own anomalies moved 15 min with node-1's clock; nothing else changed
        kept = {m for m in wanted if m[0] not in moved}
        assert kept != wanted, "node-1 holds members of the incident"
        assert _members(out, got, moved, skew_s) == kept


@pytest.mark.parametrize(
    "rules",
    [
        pytest.param(None, id="default-series-idle"),
        pytest.param("runtime:\n  series_idle: 10h\n", id="series-idle-10h"),
    ],
)
def test_a_host_further_ahead_than_series_idle(
    tmp_path: Path, scenario: Scenario, unskewed: Path, rules: str | None
) -> None:
    out = _replay(tmp_path, scenario, "node-6", 5400.0, rules)
    assert _read(out / "dead_letters.jsonl") == []
    assert list(_paged(out)) == list(_paged(unskewed))
    (want,), (got,) = _paged(unskewed).values(), _paged(out).values()
    assert set(got["alerts"]) == set(want["alerts"])
