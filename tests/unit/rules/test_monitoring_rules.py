"""The user's monitoring config loads unchanged; bad values point at file:line: key."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.rules import RuleError, parse

ROOT = Path(__file__).parents[3]


def test_users_config_is_shipped_unchanged_and_loads() -> None:
    shipped = (ROOT / "rules" / "model_monitoring.yml").read_text()
    spec_file = ROOT.parent.parent / "shared" / "spec" / "model_monitoring_config.yml"
    if spec_file.exists():
        assert shipped == spec_file.read_text()
    cfg = parse(shipped, "rules/model_monitoring.yml").monitoring
    spec = cfg.spec_for("any-model")
    assert [f.name for f in spec.data_drift.features_to_monitor] == [
        "transaction_amount",
        "user_age_days",
    ]
    assert spec.data_drift.check_interval == 3600.0
    assert spec.prediction_drift.threshold == 0.2
    assert spec.prediction_drift.check_interval == 21600
    assert [(m.name, m.minimum, m.window) for m in spec.model_performance.metrics] == [
        ("f1_score", 0.9, 604800.0),
        ("precision", 0.85, 604800.0),
    ]
    assert cfg.receivers == [("slack", "ml-alerts")]


def test_per_model_form_overrides_the_default() -> None:
    text = """
monitoring:
  data_drift: {check_interval: 1h}
  models:
    - model: churn
      data_drift: {check_interval: 2h}
"""
    cfg = parse(text, "m.yml").monitoring
    assert cfg.spec_for("churn").data_drift.check_interval == 7200.0
    assert cfg.spec_for("fraud").data_drift.check_interval == 3600.0


@pytest.mark.parametrize(
    "case", sorted((ROOT / "tests" / "rules" / "bad").glob("monitoring_*.yml"))
)
def test_bad_monitoring_files_give_expected_errors(case: Path) -> None:
    with pytest.raises(RuleError) as err:
        parse(case.read_text(), f"tests/rules/bad/{case.name}")
    assert str(err.value) == case.with_suffix(".expected").read_text().strip()
