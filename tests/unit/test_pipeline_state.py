"""A pipeline state written by main before the intake was a stage restores (fresh intake) and
goes on exactly like this version's state after the same events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
    assert old.intake == pipeline.intake.initial_state()
    new, _ = pipeline.advance(pipeline.initial_state(), _points(0, 30), now=T0 + 29 * 60)
    assert _without_interval(old.to_dict()["detect"]) == _without_interval(
        new.to_dict()["detect"])
    batch = [Sourced("metrics.jsonl", p) for p in _points(30, 200)]
    old, from_old = pipeline.process(old, batch, now=batch[-1].ts)
    new, from_new = pipeline.process(new, batch, now=batch[-1].ts)
    assert from_old == from_new
    assert any(isinstance(o, Anomaly) for o in from_new)
    assert _without_slow_view(old.to_dict()) == _without_slow_view(new.to_dict())


def test_a_version_1_state_with_an_intake_slot_restores_typed() -> None:
    """``data/pipeline_state_main_6129edc.json``: ``Pipeline.process(initial, [Sourced(
    "metrics.jsonl", p) for p in _points(0, 30)], now=last ts).to_dict()`` on main at 6129edc
    (``StageState`` version 1: slots ``intake``, ``detect``, ``incident``). It restores into the
    typed state (version 2) equal to this version's after the same events, and goes on alike."""
    data = orjson.loads((Path(__file__).parent / "data/pipeline_state_main_6129edc.json")
                        .read_bytes())
    assert (data["version"], sorted(data["slots"])) == (1, ["detect", "incident", "intake"])
    pipeline = Pipeline.from_rules(RuleSet())
    first = [Sourced("metrics.jsonl", p) for p in _points(0, 30)]
    new, _ = pipeline.process(pipeline.initial_state(), first, now=first[-1].ts)
    old = pipeline.restore_state(data)
    assert _without_interval(old.to_dict()["detect"]) == _without_interval(
        new.to_dict()["detect"])
    assert old.to_dict()["version"] == 2
    batch = [Sourced("metrics.jsonl", p) for p in _points(30, 200)]
    old, from_old = pipeline.process(old, batch, now=batch[-1].ts)
    new, from_new = pipeline.process(new, batch, now=batch[-1].ts)
    assert from_old == from_new
    assert any(isinstance(o, Anomaly) for o in from_new)
    assert _without_slow_view(old.to_dict()) == _without_slow_view(new.to_dict())


def _without_interval(detect: dict[str, Any]) -> dict[str, Any]:
    """A detect state without the metric models' typical interval ``dt`` (metric state version
    8), which an older snapshot cannot know: it is learnt from the next gap (and is equal
    again after the next batch, as the last assertion above checks), nor the slow view's mean
    and variance (version 9: started from the level and its error scale), nor the nodes given
    a telemetry mark (a part added since: the next points mark them again)."""
    out = orjson.loads(orjson.dumps(detect))
    out.pop("telemetry", None)
    for slot in out["metrics"]["series"].values():
        if slot["model"] is not None:
            for key in ("dt", "slow_mean", "slow_var"):
                slot["model"].pop(key, None)
    return out


def _without_slow_view(state: dict[str, Any]) -> dict[str, Any]:
    """A pipeline state without the metric models' slow mean and variance (metric state
    version 9), which an older snapshot cannot know: started from its level and error scale,
    they approach this version's only as the slow EWMA forgets (weight 0.01 a point)."""
    out = orjson.loads(orjson.dumps(state))
    for slot in out["detect"]["metrics"]["series"].values():
        if slot["model"] is not None:
            slot["model"].pop("slow_mean", None)
            slot["model"].pop("slow_var", None)
    return out
