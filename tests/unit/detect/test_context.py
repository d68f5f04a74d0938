"""Context novelty: a repeating pattern stops being novel; a new shape is; state round-trips."""

from __future__ import annotations

import pytest

from engine.detect.context import ContextConfig, ContextModel


def _feed(model: ContextModel, values: list[float]) -> list[float]:
    return [model.step(v, 0.0, 10.0) for v in values]


def test_a_learnt_pattern_is_not_novel_and_a_new_shape_is() -> None:
    model = ContextModel(ContextConfig())
    pattern = [float(i % 10) for i in range(2_000)]
    assert max(_feed(model, pattern)[500:]) == 0.0
    stall = _feed(model, [4.5] * 6)
    assert max(stall) > 2.0  # a flat run never seen before


def test_state_round_trip_gives_the_same_scores() -> None:
    cfg = ContextConfig(levels=6, length=4)
    values = [float((i * 7) % 11) for i in range(300)]
    whole = ContextModel(cfg)
    expected = _feed(whole, values)
    first = ContextModel(cfg)
    head = _feed(first, values[:150])
    resumed = ContextModel.from_dict(cfg, first.to_dict())
    assert head + _feed(resumed, values[150:]) == expected


def test_recent_bins_are_the_last_length_bins_with_the_two_outside_ones() -> None:
    model = ContextModel(ContextConfig(levels=8, length=5))
    _feed(model, [0.0, 5.0, 10.0, -1.0, 12.0, 3.0])
    assert model.recent == [4, 8, -1, 9, 2]
    assert ContextModel.from_dict(model.cfg, model.to_dict()).recent == model.recent


def test_clearing_the_slot_memo_changes_nothing() -> None:
    from engine.detect import context

    cfg = ContextConfig(levels=5, length=3, table_bits=128)
    values = [float((i * 7) % 13) for i in range(400)]
    expected = _feed(ContextModel(cfg), values)
    model = ContextModel(cfg)
    head = _feed(model, values[:200])
    context._MEMOS[(5, 3, 128)].clear()
    assert head + _feed(model, values[200:]) == expected


@pytest.mark.parametrize("kwargs", [{"levels": 1}, {"length": 0}, {"table_bits": 1000},
                                    {"alpha": 0.0}])
def test_bad_config_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        ContextConfig(**kwargs)  # type: ignore[arg-type]
