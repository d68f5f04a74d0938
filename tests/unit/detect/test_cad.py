"""CAD-style contextual detector: learns a pattern, flags a break, stays bounded, round-trips."""

from __future__ import annotations

import json
import random

import pytest

from engine.detect.cad import CadConfig, CadModel


def _feed(model: CadModel, values: list[float]) -> list[float]:
    return [model.step(v) for v in values]


def test_a_learnt_pattern_scores_low_and_a_break_scores_high() -> None:
    model = CadModel(CadConfig())
    scores = _feed(model, [float(i % 8) for i in range(800)])
    assert sum(scores[600:]) / 200 < 0.2
    assert model.step(3.5) > 0.75  # a value where 0 always came


def test_the_dictionary_is_bounded() -> None:
    model = CadModel(CadConfig(max_contexts=64))
    rng = random.Random(3)
    scores = _feed(model, [rng.random() for _ in range(2_000)])
    assert len(model.counts) == 64
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_state_round_trip_through_json_gives_the_same_scores() -> None:
    cfg = CadConfig(max_contexts=256)
    rng = random.Random(5)
    values = [float(i % 6) + rng.random() for i in range(400)]
    expected = _feed(CadModel(cfg), values)
    first = CadModel(cfg)
    head = _feed(first, values[:200])
    resumed = CadModel.from_dict(cfg, json.loads(json.dumps(first.to_dict())))
    assert head + _feed(resumed, values[200:]) == expected


@pytest.mark.parametrize("kwargs", [{"bits": 0}, {"max_left": 0}, {"max_active": 0},
                                    {"max_contexts": 8}, {"allowance": -1.0}])
def test_bad_config_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        CadConfig(**kwargs)  # type: ignore[arg-type]
