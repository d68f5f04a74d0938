"""Event time: per-source watermarks, allowed lateness, and what happens to late events.

Each source (a Kafka ``topic[partition]``, a replay file, the HTTP API) has its own watermark:
the largest event time it has sent minus ``allowed_lateness_s``. An event is

* ``on_time`` when it is at or after its source's newest event (it moves the watermark),
* ``late`` when it is older than that but not older than the watermark (out of order, kept),
* ``too_late`` when it is older than the watermark: dead letter with reason ``late: ...`` or,
  with ``policy="accept"``, kept anyway. Either way it is counted, never silently dropped.

Because watermarks are per source, a producer whose clock runs ahead or behind only shifts its
own watermark; the pipeline's event time (``combined_watermark``) is the *minimum* over sources
that sent something within ``idle_source_s`` of processing time ``now``, so a skewed producer
can neither make others' events late nor drag time forward and close windows early.

How the runtime uses it: decode -> wrap each event as ``Sourced`` -> ``WatermarkTracker.process``
-> pipeline with ``now=combined_watermark(state, ...)``; ``Rejected`` outputs go to the DLQ.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from engine.events import EventTime, InputEvent, MetricPoint, Rejected
from engine.operator import OperatorExample, register_example
from engine.rules.runtime import RuntimeRules


class Lateness(enum.Enum):
    """How an event's time compares with its source's progress."""

    ON_TIME = "on_time"
    LATE = "late"
    TOO_LATE = "too_late"


@dataclass(frozen=True, slots=True)
class Sourced:
    """A decoded event and where it came from (``source`` and ``partition`` key the watermark)."""

    source: str
    event: InputEvent
    partition: int | None = None
    offset: int | None = None
    raw: bytes = b""

    @property
    def key(self) -> str:
        return self.source if self.partition is None else f"{self.source}[{self.partition}]"


@dataclass(slots=True)
class WatermarkState:
    """Per source key: ``[max event time, processing time last seen]``; counts per lateness."""

    sources: dict[str, list[float]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: {k.value: 0 for k in Lateness})
    version: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "sources": {k: list(v) for k, v in self.sources.items()},
            "counts": dict(self.counts),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WatermarkState:
        return cls(
            sources={k: [float(v[0]), float(v[1])] for k, v in data["sources"].items()},
            counts={k: int(v) for k, v in data["counts"].items()},
        )


@dataclass(frozen=True, slots=True)
class WatermarkTracker:
    """Classify events against per-source watermarks; too-late ones become dead letters.

    ``now`` is processing time as given by the runner (only used to tell idle sources).
    Updates ``state`` in place and returns it.

    Examples
    --------
    >>> from engine.testing import pt, T0
    >>> op = WatermarkTracker(allowed_lateness_s=60.0)
    >>> batch = [Sourced("metrics", pt("a", 1.0, ts=T0 + s)) for s in (100, 90, 30)]
    >>> state, out = op.process(op.initial_state(), batch, now=T0)
    >>> [type(e).__name__ for e in out], state.counts
    (['MetricPoint', 'MetricPoint', 'Rejected'], {'on_time': 1, 'late': 1, 'too_late': 1})
    >>> out[2].error[:61]
    'late: ts 1764115230.0 is 10.0s before watermark 1764115240.0 '
    """

    allowed_lateness_s: float = 300.0
    policy: Literal["dead_letter", "accept"] = "dead_letter"
    idle_source_s: float = 600.0
    name: str = "watermark"

    def __post_init__(self) -> None:
        if self.allowed_lateness_s < 0:
            raise ValueError(f"allowed_lateness_s must be >= 0, got {self.allowed_lateness_s}")
        if self.idle_source_s <= 0:
            raise ValueError(f"idle_source_s must be > 0, got {self.idle_source_s}")
        if self.policy not in ("dead_letter", "accept"):
            raise ValueError(f"policy must be dead_letter or accept, got {self.policy!r}")

    @classmethod
    def from_rules(cls, rules: RuntimeRules) -> WatermarkTracker:
        """Built from the ``runtime`` rule section."""
        return cls(rules.allowed_lateness, rules.late_events, rules.idle_source)

    def initial_state(self) -> WatermarkState:
        return WatermarkState()

    def classify(self, state: WatermarkState, key: str, ts: EventTime) -> Lateness:
        """Lateness of an event at ``ts`` from source ``key``, without changing ``state``."""
        seen = state.sources.get(key)
        if seen is None or ts >= seen[0]:
            return Lateness.ON_TIME
        if ts >= seen[0] - self.allowed_lateness_s:
            return Lateness.LATE
        return Lateness.TOO_LATE

    def process(
        self, state: WatermarkState, batch: Sequence[Sourced], *, now: EventTime
    ) -> tuple[WatermarkState, list[InputEvent | Rejected]]:
        out: list[InputEvent | Rejected] = []
        for item in batch:
            key, ts = item.key, item.event.ts
            lateness = self.classify(state, key, ts)
            state.counts[lateness.value] = state.counts.get(lateness.value, 0) + 1
            seen = state.sources.setdefault(key, [ts, now])
            seen[0], seen[1] = max(seen[0], ts), max(seen[1], now)
            if lateness is Lateness.TOO_LATE and self.policy == "dead_letter":
                out.append(self._reject(item, seen[0] - self.allowed_lateness_s))
            else:
                out.append(item.event)
        return state, out

    def _reject(self, item: Sourced, watermark: EventTime) -> Rejected:
        ts = item.event.ts
        error = (
            f"late: ts {ts} is {watermark - ts}s before watermark {watermark} of {item.key}"
            f" (allowed lateness {self.allowed_lateness_s}s)"
        )
        value = item.raw or repr(item.event).encode()
        return Rejected(item.source, error, value, item.partition, item.offset)


def combined_watermark(
    state: WatermarkState, tracker: WatermarkTracker, *, now: EventTime
) -> EventTime | None:
    """Pipeline event time: the minimum watermark over sources active within ``idle_source_s``.

    ``None`` before any event. When every source is idle, the newest watermark is used, so a
    quiet stream still lets time-based windows close.

    >>> from engine.testing import pt, T0
    >>> op = WatermarkTracker(allowed_lateness_s=10.0, idle_source_s=60.0)
    >>> fast = Sourced("metrics", pt("a", 1.0, ts=T0 + 600), partition=0)  # clock 10 min ahead
    >>> slow = Sourced("metrics", pt("b", 1.0, ts=T0), partition=1)
    >>> state, _ = op.process(op.initial_state(), [fast, slow], now=T0)
    >>> combined_watermark(state, op, now=T0) == T0 - 10.0
    True
    """
    if not state.sources:
        return None
    marks = {k: v[0] - tracker.allowed_lateness_s for k, v in state.sources.items()}
    active = [marks[k] for k, v in state.sources.items() if now - v[1] <= tracker.idle_source_s]
    return min(active) if active else max(marks.values())


def _example_batch() -> list[Sourced]:
    from engine.testing import T0

    batch: list[Sourced] = []
    for i in range(60):
        partition = i % 3
        skew = (0.0, 400.0, -200.0)[partition]
        jitter = ((i * 37) % 11 - 5) * 20.0  # out of order, sometimes beyond the lateness
        point = MetricPoint(T0 + i * 10.0 + skew + jitter, "cpu", float(i), {"service": "a"})
        batch.append(Sourced("metrics", point, partition=partition, offset=i))
    return batch


register_example(
    OperatorExample(
        "watermark",
        lambda: WatermarkTracker(allowed_lateness_s=60.0),
        _example_batch,
        WatermarkState,
    )
)
