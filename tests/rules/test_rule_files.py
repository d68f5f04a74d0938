"""Rule files: every good file loads; every bad file fails with exactly its ``.expected`` text."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.rulefiles import load_rules
from engine.rules import RuleError

HERE = Path(__file__).parent
REPO = HERE.parent.parent
GOOD = sorted((HERE / "good").glob("*.y*ml"))
BAD = sorted((HERE / "bad").glob("*.y*ml"))


def test_shipped_rules_load() -> None:
    load_rules([REPO / "rules"])


def test_user_monitoring_config_loads_unchanged() -> None:
    spec = REPO.parent / "shared" / "spec" / "model_monitoring_config.yml"
    if not spec.exists():  # CI lays shared/ beside the clone; a developer checkout may not
        spec = REPO / "rules" / "model_monitoring.yml"
    rules = load_rules([spec])
    assert rules.monitoring is not None


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_good_rule_file_loads(path: Path) -> None:
    load_rules([path])


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_bad_rule_file_reports_expected_errors(path: Path) -> None:
    expected = path.with_suffix(".expected").read_text().strip()
    with pytest.raises(RuleError) as caught:
        load_rules([path])
    got = str(caught.value).replace(str(HERE) + "/", "")
    assert got == expected


def test_every_bad_file_has_an_expected_file() -> None:
    assert BAD, "tests/rules/bad must hold at least one case"
    for path in BAD:
        assert path.with_suffix(".expected").exists(), path
