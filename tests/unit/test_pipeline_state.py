"""A pipeline state written by main before the intake was a stage restores (fresh intake) and
goes on exactly like this version's state after the same events."""

from __future__ import annotations

from pathlib import Path

import orjson

from engine.events import Anomaly, MetricPoint
from engine.ingest.marks import Sourced
from engine.pipeline import Pipeline
from engine.rules import RuleSet
from engine.testing import T0


def _points(start: int, stop: int) -> list[MetricPoint]:
    """What main processed for the fixture (minutes 0-29), and what follows (a spike at 150)."""
    return [
        MetricPoint(T0 + 60 * i, "cpu", 1.0 + (i % 3) * 0.1 + (40 if i in (25, 150) else 0),
                    {"service": s, "host": "h1"})
        for i in range(start, stop)
        for s in ("a", "b")
    ]


def test_a_state_written_by_main_restores_and_continues_like_this_versions() -> None:
    """``data/pipeline_state_main_f3864bd.json``: ``Pipeline.process(initial, _points(0, 30),
    now=last ts).to_dict()`` on main at f3864bd (slots ``detect`` and ``incident`` only)."""
    data = orjson.loads((Path(__file__).parent / "data/pipeline_state_main_f3864bd.json")
                        .read_bytes())
    assert sorted(data["slots"]) == ["detect", "incident"]
    pipeline = Pipeline.from_rules(RuleSet())
    old = pipeline.restore_state(data)
    assert old.slots["intake"] == pipeline.intake.initial_state()
    new, _ = pipeline.advance(pipeline.initial_state(), _points(0, 30), now=T0 + 29 * 60)
    assert old.to_dict()["slots"]["detect"] == new.to_dict()["slots"]["detect"]
    batch = [Sourced("metrics.jsonl", p) for p in _points(30, 200)]
    old, from_old = pipeline.process(old, batch, now=batch[-1].ts)
    new, from_new = pipeline.process(new, batch, now=batch[-1].ts)
    assert from_old == from_new
    assert any(isinstance(o, Anomaly) for o in from_new)
    assert old.to_dict() == new.to_dict()
