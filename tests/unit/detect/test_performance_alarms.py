"""Performance alarms with stated confidence: insufficient labels, estimates, change scan, state."""

from __future__ import annotations

import numpy as np

from engine.detect.model import ModelMonitor
from engine.detect.model_state import ModelMonitorState
from engine.detect.performance import JoinedColumns
from engine.detect.performance_change import ChangeScan, scan
from engine.detect.profile import build_profile
from engine.events import AnomalyKind, GroundTruth, Prediction
from engine.rules import parse

HOUR = 3600.0


def monitor(extra: str = "") -> ModelMonitor:
    rules = f"""
monitoring:
  model_performance:
    metrics: [{{name: precision, minimum: 0.85, window: 7d}}]
    check_interval: 1h
    min_labels: 50
{extra}
"""
    config = parse(rules, "t.yml").monitoring
    reference = build_profile("m", {"x": [float(i) for i in range(100)]})
    return ModelMonitor(config, {"m": reference})


def predictions(flags: list[int], scores: list[float] | None = None) -> list[Prediction]:
    """One prediction every 10 s from ts 0."""
    return [
        Prediction(10.0 * i, "m", f"p{i}", {"x": 1.0}, flag, None if scores is None else scores[i])
        for i, flag in enumerate(flags)
    ]


def day_one() -> tuple[list[Prediction], list[GroundTruth]]:
    """200 predictions, 4 flagged of which 1 is wrong: precision 0.75 from 4 positives."""
    flags = [1, 1, 1, 1] + [0] * 196
    preds = predictions(flags)
    labels = [
        GroundTruth(3000.0, "m", p.id, 0 if i == 3 else p.prediction) for i, p in enumerate(preds)
    ]
    return preds, labels


def run(op: ModelMonitor, preds: list[Prediction], labels: list[GroundTruth]) -> tuple:
    state, first = op.process(op.initial_state(), preds, now=preds[-1].ts)
    state, second = op.process(state, labels, now=2 * HOUR)
    return state, first + second


def test_four_positives_are_insufficient_labels_never_a_breach() -> None:
    state, found = run(monitor(), *day_one())
    status = state.models["m"].perf_status["precision"]
    assert found == []
    assert (status["status"], status["value"], status["n_effective"]) == (
        "insufficient_labels",
        0.75,
        4.0,
    )
    assert status["n_labels"] == 200


def test_point_estimate_rule_alarms_on_the_same_four_positives() -> None:
    _, found = run(monitor("    alarm_on: point_estimate"), *day_one())
    assert [(a.kind, a.detail["value"], a.detail["test"]) for a in found] == [
        (AnomalyKind.PERFORMANCE, 0.75, "point_estimate")
    ]


def test_many_positives_well_below_the_minimum_breach_with_their_bound() -> None:
    flags = [1] * 100 + [0] * 100
    preds = predictions(flags)
    labels = [
        GroundTruth(3000.0, "m", p.id, int(i % 2 == 0 or i >= 100) * p.prediction)
        for i, p in enumerate(preds)
    ]  # 50 of 100 flags right: precision 0.5
    _, found = run(monitor(), preds, labels)
    assert len(found) == 1
    detail = found[0].detail
    assert (detail["status"], detail["test"], detail["value"]) == ("breach", "wilson", 0.5)
    assert detail["upper"] < 0.85
    assert detail["n_effective"] == 100


def test_estimate_before_labels_is_reported_but_does_not_alarm_by_default() -> None:
    preds = predictions([1] * 100 + [0] * 100, [0.3] * 100 + [0.01] * 100)
    op = monitor()
    state, found = op.process(op.initial_state(), preds, now=preds[-1].ts)
    state, found = op.process(state, [], now=2 * HOUR)
    status = state.models["m"].perf_status["precision"]
    assert found == []
    assert (status["estimate"], status["status"], round(status["value"], 6)) == (
        True,
        "breach",
        0.3,
    )
    assert status["upper"] < 0.85
    op = monitor("    estimate_alarms: true")
    state, _ = op.process(op.initial_state(), preds, now=preds[-1].ts)
    _, found = op.process(state, [], now=2 * HOUR)
    assert [(a.detail["estimate"], a.severity.value) for a in found] == [(True, "warning")]


def test_change_scan_finds_the_split_and_says_how_many_labels() -> None:
    ts = [float(i) for i in range(300)]
    truth = [i >= 250 and i % 2 == 0 for i in range(300)]  # from 250 on half the flags are wrong
    cols = JoinedColumns(
        np.array(ts),
        ~np.array(truth) | (np.arange(300) < 250),
        np.ones(300, dtype=bool),
        None,
        None,
    )
    finding = scan(cols, "precision", ChangeScan(0.0, 300.0, 10.0, 0.85, 10, 2.326, 1e-4))
    assert finding is not None
    assert (finding.split_ts, finding.n_after, finding.errors_after, finding.alarm) == (
        250.0,
        50,
        25,
        True,
    )
    assert finding.adjusted_p_value < 1e-4


def test_change_scan_is_quiet_when_the_recent_labels_are_still_above_the_minimum() -> None:
    flags = np.ones(300, dtype=bool)
    truth = np.where(np.arange(300) < 250, True, np.arange(300) % 10 != 0)  # 0.9 after 250
    cols = JoinedColumns(np.arange(300.0), truth, flags, None, None)
    finding = scan(cols, "precision", ChangeScan(0.0, 300.0, 10.0, 0.85, 10, 2.326, 1e-4))
    assert finding is not None
    assert not finding.alarm


def test_version_1_checkpoint_restores_with_empty_statuses() -> None:
    state, _ = run(monitor(), *day_one())
    old = state.to_dict()
    old["version"] = 1
    for track in old["models"].values():
        del track["perf_status"], track["scope"]
    restored = ModelMonitorState.from_dict(old)
    assert restored.version == 3
    assert restored.models["m"].perf_status == {}
    assert restored.models["m"].labels.joined == state.models["m"].labels.joined
