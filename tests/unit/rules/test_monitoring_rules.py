"""The user's monitoring config loads unchanged; bad values point at file:line: key."""

from __future__ import annotations

from pathlib import Path

from engine.rules import parse

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


# The bad monitoring files (tests/rules/bad/monitoring_*.yml) run in tests/rules/test_rule_files.py.
