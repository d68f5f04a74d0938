"""Smoke test of benchmarks/e2e: one short generated stream through the real replay, scored."""

from __future__ import annotations

from pathlib import Path

from benchmarks.e2e.baselines import alertmanager_groups, max_z
from benchmarks.e2e.cases import HELD_OUT, TUNED_ON, generated_case, plan
from benchmarks.e2e.generate import Knobs
from benchmarks.e2e.report import Split, print_split
from benchmarks.e2e.run import bench_rules, run_folder, write_folder
from benchmarks.e2e.truth import alert_episodes

SHORT = Knobs(hours=(1.5, 1.5), services=(18, 18), fault_after_h=(0.75, 0.75))


def test_seed_split_is_disjoint() -> None:
    assert not set(TUNED_ON) & set(HELD_OUT)
    assert [m for _, m in plan(TUNED_ON, 1, 1)][:2] == ["ordinary", "retry_storm"]


def test_generator_is_deterministic() -> None:
    a, b = generated_case(3, "host_failure", SHORT), generated_case(3, "host_failure", SHORT)
    assert a.records == b.records
    assert a.faults == b.faults
    assert a.faults[0].root in {n["id"] for n in a.topology["nodes"] if n["kind"] == "host"}


def test_one_short_stream_runs_and_scores(tmp_path: Path, capsys) -> None:
    case = generated_case(5, "ordinary", SHORT)
    write_folder(tmp_path / "in", case.topology, case.records)
    out = run_folder(tmp_path / "in", tmp_path / "out", bench_rules())
    assert out.dead_letters == 0
    assert out.anomalies
    assert (tmp_path / "out" / "incidents.jsonl").is_file()
    split = Split("smoke")
    split.add(case, out)
    print_split(split)
    printed = capsys.readouterr().out
    assert "pooled" in printed
    assert "max-z" in printed
    assert len(split.faults) == len(case.faults)
    assert max_z(case, case.faults[0])


def test_alertmanager_grouping_groups_by_name_and_cluster() -> None:
    case = generated_case(7, "flapping", SHORT)
    episodes = alert_episodes(case.records["alerts"], case.end)
    assert episodes
    groups = alertmanager_groups(episodes)
    for ep, group in groups.items():
        assert group.startswith(f"{ep.name}/{ep.cluster}/")
