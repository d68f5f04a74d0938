"""Model-performance status in the API and the Prometheus metrics: a handful of labels shows as
``insufficient_labels`` (value NaN), never as a breach."""

from __future__ import annotations

import httpx

from connectors.http.state import AppState
from engine.detect.model import ModelMonitor
from engine.detect.profile import build_profile
from engine.events import GroundTruth, Prediction
from engine.rules import parse

RULES = """
monitoring:
  model_performance:
    metrics: [{name: precision, minimum: 0.85, window: 7d}]
    min_labels: 50
"""


def few_positives_state() -> object:
    """200 labelled predictions, 4 flagged, 1 of them wrong (precision 0.75 from 4 positives)."""
    op = ModelMonitor(parse(RULES, "t.yml").monitoring, {"m": build_profile("m", {"x": [1.0]})})
    preds = [Prediction(10.0 * i, "m", f"p{i}", {"x": 1.0}, int(i < 4), None) for i in range(200)]
    labels = [GroundTruth(3000.0, "m", p.id, int(i < 3)) for i, p in enumerate(preds)]
    state, _ = op.process(op.initial_state(), preds, now=preds[-1].ts)
    state, _ = op.process(state, labels, now=7200.0)
    return state


def test_api_lists_insufficient_labels(
    client: httpx.Client, app_state: AppState, auth: dict[str, str]
) -> None:
    app_state.metrics.models.observe(few_positives_state())  # type: ignore[arg-type]
    body = client.get("/api/v1/models", headers=auth).json()
    record = body["models"]["m"]["precision"]
    assert (record["status"], record["value"], record["n_effective"]) == (
        "insufficient_labels",
        0.75,
        4.0,
    )


def test_prometheus_status_is_insufficient_labels_and_value_nan(app_state: AppState) -> None:
    app_state.metrics.models.observe(few_positives_state())  # type: ignore[arg-type]
    text = app_state.metrics.render()[0].decode()
    keys = 'estimate="false",metric="precision",model="m"'
    assert f'vigil_model_metric_status{{{keys},status="insufficient_labels"}} 1.0' in text
    assert f'vigil_model_metric_status{{{keys},status="breach"}} 0.0' in text
    assert f"vigil_model_metric{{{keys}}} NaN" in text
    assert f"vigil_model_metric_effective_labels{{{keys}}} 4.0" in text
