"""The console's model performance card: a metric on a handful of labels reads "insufficient
labels", never "breach" (issue 18)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connectors.console.session import ConsoleSession
from engine.detect.model import ModelMonitor
from engine.detect.profile import build_profile
from engine.events import GroundTruth, Prediction
from engine.rules import parse

pytestmark = pytest.mark.browser

RULES = """
monitoring:
  model_performance:
    metrics: [{name: precision, minimum: 0.85, window: 7d}]
"""


@pytest.fixture
def console() -> Iterator[ConsoleSession]:
    session = ConsoleSession.start(port=0)
    yield session
    session.server.stop()


def test_model_card_says_insufficient_labels(page: Any, console: ConsoleSession) -> None:
    op = ModelMonitor(parse(RULES, "t.yml").monitoring, {"m": build_profile("m", {"x": [1.0]})})
    preds = [Prediction(10.0 * i, "m", f"p{i}", {"x": 1.0}, int(i < 4), None) for i in range(200)]
    labels = [GroundTruth(3000.0, "m", p.id, int(i < 3)) for i, p in enumerate(preds)]
    state, _ = op.process(op.initial_state(), preds, now=preds[-1].ts)
    state, _ = op.process(state, labels, now=7200.0)
    console.state.metrics.models.observe(state)
    page.goto(console.url)
    cell = page.locator("td.model-status")
    cell.wait_for()
    assert cell.inner_text() == "insufficient labels"
    assert "precision" in page.locator("table.models").inner_text()
