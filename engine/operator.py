"""The operator contract every stage is built from, and the registry the conformance suite reads.

An operator is a frozen dataclass of configuration with two methods:
``initial_state()`` and ``process(state, batch, *, now) -> (state, outputs)``. State is an
explicit dataclass of plain data with a ``version`` and ``to_dict``/``from_dict``. Time comes in
as ``now`` (event time or watermark); operators never read a clock. See STYLE.md §1.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, Self, TypeVar

from engine.events import EventTime
from engine.vocabulary import JsonDict

StateT = TypeVar("StateT")
InT = TypeVar("InT", contravariant=True)
OutT = TypeVar("OutT")


class OperatorState(Protocol):
    """Explicit, versioned, JSON-serializable operator state."""

    version: int

    def to_dict(self) -> JsonDict: ...

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self: ...


class Operator(Protocol[StateT, InT, OutT]):
    """A pure stage: same ``(config, state, batch, now)`` in, same ``(state, outputs)`` out.

    An operator may update ``state`` in place on hot paths (its docstring says so) but must
    still return it.
    """

    name: str

    def initial_state(self) -> StateT: ...

    def process(
        self, state: StateT, batch: Sequence[InT], *, now: EventTime
    ) -> tuple[StateT, list[OutT]]: ...


@dataclass(frozen=True, slots=True)
class OperatorExample:
    """How the conformance suite builds an operator and a representative input batch.

    ``make_batch`` must return a batch long enough to exercise warm-up and detection, and
    ``now`` is the watermark used while processing it. ``normalize`` maps a list of outputs to
    what must be equal when a batch is split in two: the outputs themselves by default; an
    operator that reports once per ``process`` call (an incident update per batch) may compare
    the final word per key instead, and must say so in its docstring.
    """

    name: str
    make_operator: Callable[[], Any]
    make_batch: Callable[[], list[Any]]
    state_type: type[Any]
    now: EventTime | None = 0.0
    """The watermark for every call; ``None``: the ts of the last event of each call's batch."""
    normalize: Callable[[list[Any]], Any] = list


REGISTRY: dict[str, OperatorExample] = {}


def register_example(example: OperatorExample) -> OperatorExample:
    """Register an operator for the conformance suite (tests/conformance)."""
    REGISTRY[example.name] = example
    return example


@dataclass(slots=True)
class NullState:
    """State of a stateless operator."""

    version: int = 1

    def to_dict(self) -> JsonDict:
        return {"version": self.version}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NullState:
        return cls(version=int(data.get("version", 1)))
