"""Smoke test of benchmarks.serve_ingest: one round, and the live path finds replay's anomalies."""

from __future__ import annotations

import sys

import pytest

from benchmarks import serve_ingest


def test_one_round_prints_both_paths_with_the_same_anomalies(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["serve_ingest", "--rounds", "1"])
    serve_ingest.main()
    out = capsys.readouterr().out
    assert "baseline replay" in out
    assert "candidate serve HTTP" in out
    replayed, served = out.split("(anomalies: replay ")[1].split(";")[0].split(", serve ")
    assert replayed == served != "0"
