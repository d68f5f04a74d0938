"""Event-time records: where an event came from (``Sourced``), the watermark state, and the
pipeline's event time over sources (``combined_watermark``).

The judgement itself (per-producer lateness, robust source marks) is
``engine.ingest.watermark.WatermarkTracker``; the pipeline's intake stage
(``engine.ingest.intake.IntakeStage``) runs it before the series guard and derives the
pipeline's event time from its state with ``combined_watermark``.

Each source reports one event time (``sources[key][0]``), recomputed after every batch that
touched it by ``engine.ingest.producers.robust_mark``: the minimum newest event time over its
producers heard from within ``idle_source_s`` of processing time (measured on an idle clock
that advances at most ``idle_source_s / 2`` per call, see ``WatermarkTracker._tick``, so one
jump of a replay's clock cannot idle every other producer at once), leaving out those more than
``max_clock_skew_s`` behind the median producer (they would stall the pipeline). A producer
ahead of the others is never that minimum unless it is alone, so it cannot drag time forward;
producers further than ``max_clock_skew_s`` from the median either way are counted as skewed
(``sources[key][2]``). The pipeline's event time (``combined_watermark``) is the minimum of
the sources' marks (minus ``allowed_lateness_s``) over sources heard from within
``idle_source_s``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.events import EventTime, InputEvent, Rejected


class Horizons(Protocol):
    """What ``combined_watermark`` reads of a tracker's configuration."""

    @property
    def allowed_lateness_s(self) -> float: ...

    @property
    def idle_source_s(self) -> float: ...


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

    @property
    def ts(self) -> EventTime:
        return self.event.ts

    def rejected(self, error: str) -> Rejected:
        """This event as a dead letter: its raw bytes (else its repr) and where it came from."""
        value = self.raw or repr(self.event).encode()
        return Rejected(self.source, error, value, self.partition, self.offset)


@dataclass(slots=True)
class WatermarkState:
    """Per source key: ``[robust event time, processing time last seen, skewed producers]``;
    per source and producer: ``[newest event time, idle clock last seen]`` (least recently
    seen first); counts per lateness; producers evicted at the cap.

    ``from_dict`` also reads version 1 (one mark per source, no producers): the producers are
    then learnt afresh, each one's first event judged against its source's mark only.
    """

    sources: dict[str, list[float]] = field(default_factory=dict)
    producers: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    clock: list[float] = field(default_factory=list)
    """``[runner's newest now, producers' idle clock]`` (see ``WatermarkTracker._tick``)."""
    counts: dict[str, int] = field(default_factory=lambda: {k.value: 0 for k in Lateness})
    evicted: int = 0
    version: int = 2
    hosts: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    """Producer name per ``host`` label seen (a cache, not state: never serialized)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "sources": {k: list(v) for k, v in self.sources.items()},
            "producers": {
                k: {p: list(v) for p, v in by.items()} for k, by in self.producers.items()
            },
            "clock": list(self.clock),
            "counts": dict(self.counts),
            "evicted": self.evicted,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WatermarkState:
        sources = {k: [float(x) for x in v] for k, v in data["sources"].items()}
        for mark in sources.values():  # version 1: [max event time, last seen]
            mark.extend([0.0] * (3 - len(mark)))
        return cls(
            sources=sources,
            producers={
                k: {p: [float(v[0]), float(v[1])] for p, v in by.items()}
                for k, by in data.get("producers", {}).items()
            },
            clock=[float(x) for x in data.get("clock", [])],
            counts={k: int(v) for k, v in data["counts"].items()},
            evicted=int(data.get("evicted", 0)),
        )

    def skewed(self) -> int:
        """Producers currently further than the tracker's ``max_clock_skew_s`` from their
        source's median producer."""
        return int(sum(v[2] for v in self.sources.values()))


def combined_watermark(
    state: WatermarkState, tracker: Horizons, *, now: EventTime
) -> EventTime | None:
    """Pipeline event time: the minimum watermark over sources active within ``idle_source_s``.

    ``None`` before any event. When every source is idle, the newest watermark is used, so a
    quiet stream still lets time-based windows close.

    >>> from engine.testing import pt, T0
    >>> from engine.ingest.watermark import WatermarkTracker
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
