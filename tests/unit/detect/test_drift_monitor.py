"""ModelMonitor end to end on seeded streams: drift, quiet on stationary data, labels, state."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
from scipy import stats

from engine.detect.data_drift import check_data_drift
from engine.detect.model import ModelMonitor
from engine.detect.model_state import ModelMonitorState
from engine.detect.profile import build_profile
from engine.events import AnomalyKind, GroundTruth, Prediction
from engine.rules import parse
from testing.scenarios.predictions import generate_predictions

RULES = """
monitoring:
  data_drift:
    features_to_monitor: [{name: amount, threshold: 0.05}, {name: merchant, threshold: 0.05}]
    check_interval: 1h
  prediction_drift: {threshold: 0.2, check_interval: 6h}
  model_performance:
    metrics: [{name: f1_score, minimum: 0.9, window: 7d}]
    min_labels: 100
  reference: {first_predictions: 2000}
"""


def monitor() -> ModelMonitor:
    return ModelMonitor.from_rules(parse(RULES, "t.yml").monitoring)


def run(op: ModelMonitor, events: list, batch: int = 500) -> tuple[ModelMonitorState, list]:
    state, found = op.initial_state(), []
    for i in range(0, len(events), batch):
        part = events[i : i + batch]
        state, out = op.process(state, part, now=part[-1].ts)
        found += out
    return state, found


def test_mean_shift_on_amount_alarms_within_two_checks() -> None:
    at = 8 * 3600 + 1234.0
    events = generate_predictions(3, 12 * 3600 // 4, 0.25, at, "mean_shift", label_delay_s=None)
    _, found = run(monitor(), events)
    drift = [a for a in found if a.kind is AnomalyKind.DATA_DRIFT]
    assert [a.subject["feature"] for a in drift] == ["amount"]
    assert at < drift[0].ts <= at + 2 * 3600
    assert drift[0].node == "fraud-detector"


def test_new_category_alarms_on_merchant() -> None:
    at = 6 * 3600.0 + 100
    events = generate_predictions(4, 10 * 3600, 1.0, at, "new_category", label_delay_s=None)
    _, found = run(monitor(), events, batch=2000)
    merchants = [a for a in found if a.subject.get("feature") == "merchant"]
    assert merchants
    assert at < merchants[0].ts <= at + 2 * 3600


def test_stationary_day_raises_no_drift_alarm() -> None:
    events = generate_predictions(5, 24 * 3600 // 2, 0.5, None, "none", label_delay_s=None)
    _, found = run(monitor(), events, batch=2000)
    assert [a for a in found if a.kind is not AnomalyKind.PERFORMANCE] == []


def test_check_p_value_equals_scipy_on_the_window_sample() -> None:
    events = generate_predictions(6, 3600, 1.0, None, "none", label_delay_s=None)
    op = monitor()
    state, _ = op.process(op.initial_state(), events, now=0.0)
    track = state.models["fraud-detector"]
    sample = track.features.samples["amount"]
    # the first 2000 predictions are the reference; the open window holds the other 1600
    assert sample.tolist() == [e.features["amount"] for e in events[2000:]]
    spec = op.config.data_drift
    findings = check_data_drift(track.features, track.reference, spec, {})
    expected = stats.ks_2samp(sample, track.reference.numeric["amount"])
    assert (findings[0].result.statistic, findings[0].result.p_value) == (
        expected.statistic,
        expected.pvalue,
    )


def test_window_is_capped_by_reservoir() -> None:
    rules = RULES.replace(
        "check_interval: 1h\n", "check_interval: 1h\n    window_max_samples: 500\n"
    )
    op = ModelMonitor.from_rules(parse(rules, "t.yml").monitoring)
    events = generate_predictions(7, 5000, 2.0, None, "none", label_delay_s=None)
    state, _ = op.process(op.initial_state(), events, now=0.0)
    window = state.models["fraud-detector"].features
    assert len(window.samples["amount"]) == 500
    assert window.sampled["amount"] == 3000


def test_stored_reference_is_used_and_first_predictions_are_monitored() -> None:
    rng = np.random.default_rng(1)
    ref = build_profile("fraud-detector", {"amount": rng.normal(5, 1, 3000).tolist()})
    op = monitor().with_references({"fraud-detector": ref})
    events = generate_predictions(8, 3 * 3600, 1.0, None, "none", label_delay_s=None)
    _, found = run(op, events, batch=3000)
    assert [a.subject["feature"] for a in found if a.kind is AnomalyKind.DATA_DRIFT] == ["amount"]


def test_label_shift_lowers_measured_f1_below_minimum() -> None:
    events = generate_predictions(9, 30 * 3600 // 10, 0.1, None, "none", label_delay_s=1800)
    _, found = run(monitor(), events)
    perf = [a for a in found if a.kind is AnomalyKind.PERFORMANCE]
    measured = [a for a in perf if not a.detail["estimate"]]
    assert measured
    assert measured[0].detail["value"] < 0.9
    assert all(a.severity.value == "warning" for a in perf if a.detail["estimate"])


def test_labels_that_never_arrive_expire_after_horizon() -> None:
    op = monitor()
    preds = [p for p in generate_predictions(10, 2500, 1.0, None, "none") if type(p) is Prediction]
    state, _ = op.process(op.initial_state(), preds, now=preds[-1].ts)
    state, _ = op.process(state, [], now=preds[-1].ts + 8 * 86400)
    labels = state.models["fraud-detector"].labels
    assert labels.pending == {}
    assert labels.expired == 500
    late = GroundTruth(preds[-1].ts + 9 * 86400, "fraud-detector", preds[-1].id, 1)
    state, _ = op.process(state, [late], now=late.ts)
    assert state.models["fraud-detector"].labels.unmatched == 1


def test_state_round_trips_through_json_mid_stream() -> None:
    events = generate_predictions(11, 8000, 1.0, 5000.0, "variance", label_delay_s=300)
    op = monitor()
    state, _first = run(op, events[:6000])
    restored = ModelMonitorState.from_dict(json.loads(json.dumps(state.to_dict())))
    _, a = run_from(op, state, events[6000:])
    _, b = run_from(op, restored, events[6000:])
    assert a == b


def run_from(op: ModelMonitor, state: ModelMonitorState, events: list) -> tuple:
    found = []
    for i in range(0, len(events), 700):
        part = events[i : i + 700]
        state, out = op.process(state, part, now=part[-1].ts)
        found += out
    return state, found


def test_no_config_monitors_nothing() -> None:
    op = ModelMonitor.from_rules(None)
    events = generate_predictions(12, 100, 1.0)
    assert op.process(op.initial_state(), events, now=0.0)[1] == []


def test_model_anomalies_carry_the_labels_that_scope_the_model() -> None:
    """Like a metric or log anomaly, a model's carries its cluster (a worker partitions the
    incident stage by it): from the model's latest labelled prediction, then the spec's
    ``labels``; before, only ``{"model": ...}``."""
    at = 8 * 3600 + 1234.0
    events = generate_predictions(3, 12 * 3600 // 4, 0.25, at, "mean_shift", label_delay_s=None)
    scoped = {"cluster": "eu-1", "namespace": "risk"}
    labelled = [
        dataclasses.replace(e, labels=scoped) if isinstance(e, Prediction) else e for e in events
    ]
    _, found = run(monitor(), labelled)
    assert found
    assert all(a.labels == {**scoped, "model": "fraud-detector"} for a in found)
    text = RULES.replace("monitoring:\n", "monitoring:\n  labels: {cluster: us-2}\n")
    _, found = run(ModelMonitor.from_rules(parse(text, "t.yml").monitoring), events)
    assert found
    assert all(a.labels == {"cluster": "us-2", "model": "fraud-detector"} for a in found)


def test_a_version_2_state_restores_without_scope() -> None:
    state, _ = run(monitor(), generate_predictions(3, 3000, 0.25, 1e9, label_delay_s=None))
    old = state.to_dict()
    old["version"] = 2
    for track in old["models"].values():
        del track["scope"]
    restored = ModelMonitorState.from_dict(json.loads(json.dumps(old)))
    assert restored.version == 3
    assert all(track.scope == {} for track in restored.models.values())
