"""The ``vigil`` command line, run in-process with real files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from connectors.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_check_passes_on_shipped_rules(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(REPO / "rules")]) == 0
    assert "valid" in capsys.readouterr().out


def test_check_reports_line_accurate_errors_on_a_broken_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "rules"
    shutil.copytree(REPO / "rules", broken)
    target = sorted(broken.glob("*.y*ml"))[0]
    text = target.read_text().rstrip("\n") + "\n"
    target.write_text(text + "no_such_section:\n  x: 1\n")
    assert main(["check", str(broken)]) == 1
    err = capsys.readouterr().err
    assert f"{target}:{text.count(chr(10)) + 1}: no_such_section: unknown key" in err


def test_check_missing_path_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path / "nope")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_demo_prints_the_incident_and_its_top_cause(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "probable root causes:" in out
    assert "1. payments" in out
    assert (tmp_path / "out" / "incidents.jsonl").exists()
