"""One suite run against every registered operator (STYLE.md §6, river's checks idea)."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import orjson
import pytest

import engine
from engine.operator import REGISTRY, OperatorExample


def _import_all_engine_modules() -> None:
    for module in pkgutil.walk_packages(engine.__path__, prefix="engine."):
        importlib.import_module(module.name)


_import_all_engine_modules()
EXAMPLES = sorted(REGISTRY.values(), key=lambda e: e.name)


def _restore(example: OperatorExample, op: Any, state: Any) -> Any:
    data = orjson.loads(orjson.dumps(state.to_dict()))  # must survive real serialization
    restore = getattr(op, "restore_state", None)
    return restore(data) if restore is not None else example.state_type.from_dict(data)


def _run(op: Any, state: Any, batch: list[Any], now: float | None) -> tuple[Any, list[Any]]:
    """Process ``batch``; with ``now=None`` the watermark is the batch's last event time."""
    if now is None:
        now = batch[-1].ts if batch else _LAST_NOW.get(id(state), 0.0)
    _LAST_NOW[id(state)] = now
    state, out = op.process(state, batch, now=now)
    _LAST_NOW[id(state)] = now
    return state, list(out)


_LAST_NOW: dict[int, float] = {}


@pytest.fixture(params=EXAMPLES, ids=lambda e: e.name)
def example(request: pytest.FixtureRequest) -> OperatorExample:
    return request.param  # type: ignore[no-any-return]


def test_registry_is_not_empty() -> None:
    assert len(EXAMPLES) >= 1


def test_deterministic(example: OperatorExample) -> None:
    batch = example.make_batch()
    op = example.make_operator()
    _, first = _run(op, op.initial_state(), batch, example.now)
    _, second = _run(example.make_operator(), op.initial_state(), batch, example.now)
    assert first == second


def test_state_round_trip_mid_stream_gives_same_outputs(example: OperatorExample) -> None:
    batch = example.make_batch()
    cut = len(batch) // 2
    op = example.make_operator()
    state, _ = _run(op, op.initial_state(), batch[:cut], example.now)
    restored = _restore(example, op, state)
    assert orjson.dumps(restored.to_dict()) == orjson.dumps(state.to_dict())
    _, direct = _run(op, state, batch[cut:], example.now)
    op2 = example.make_operator()
    state2, _ = _run(op2, op2.initial_state(), batch[:cut], example.now)
    _, after_restore = _run(op2, _restore(example, op2, state2), batch[cut:], example.now)
    assert after_restore == direct


def test_split_batch_matches_whole_batch(example: OperatorExample) -> None:
    batch = example.make_batch()
    cut = len(batch) // 3
    op = example.make_operator()
    _, whole = _run(op, op.initial_state(), batch, example.now)
    state, first = _run(op, op.initial_state(), batch[:cut], example.now)
    _, rest = _run(op, state, batch[cut:], example.now)
    assert example.normalize(first + rest) == example.normalize(whole)


def test_empty_batch_changes_nothing(example: OperatorExample) -> None:
    batch = example.make_batch()
    op = example.make_operator()
    state, _ = _run(op, op.initial_state(), batch, example.now)
    before = orjson.dumps(state.to_dict())
    state, out = _run(op, state, [], example.now)
    assert out == []
    assert orjson.dumps(state.to_dict()) == before


def test_repr_is_stable(example: OperatorExample) -> None:
    assert repr(example.make_operator()) == repr(example.make_operator())


def test_docstring_has_example(example: OperatorExample) -> None:
    doc = type(example.make_operator()).__doc__ or ""
    assert "Examples" in doc, f"{example.name}: add an Examples section"
    assert ">>>" in doc, f"{example.name}: the Examples section needs a doctest"
