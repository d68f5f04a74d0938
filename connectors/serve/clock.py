"""Time in ``vigil serve``: processing time (``ServeClock``, the runner's clock port
``JournalClock``), event time that never goes back (``LiveRunner``), and event time when no
input comes: the wall clock moves it on once every source is idle (``idle_event_time``).

Event time comes from the data (``combined_watermark``). When nothing arrives at all, a live
runtime must still see time pass, or an alert that is never re-sent would wait in the incident
stage's reorder buffer forever and no quiet period would ever end. So once every source has
been silent for ``runtime.idle_source`` of wall clock, ``vigil serve`` lets event time follow
the wall clock from where each source stopped: a source's newest event time plus the wall time
since it was last heard from, less ``idle_source`` (never past the wall clock less
``idle_source``, for a producer whose clock runs ahead). Input that arrives later with older
timestamps is judged late as usual.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from connectors.runner import Runner
from engine.events import EventTime, InputEvent
from engine.ingest.watermark import Sourced, WatermarkState
from engine.pipeline import PipelineOutput


class ServeClock(enum.Enum):
    """Processing time of ``vigil serve``: what tells an idle source (``--clock``)."""

    WALL = "wall"
    """The wall clock when each batch was accepted (live input; ticks while nothing comes)."""
    EVENT = "event"
    """The newest event time accepted, as a replay does (a backfill of old data over HTTP,
    and tests: the outputs then depend on the input alone, not on when it arrived)."""


@dataclass(slots=True)
class JournalClock:
    """The runner's clock port in ``--clock wall``: the wall clock the journal recorded for
    the record being run (set before each step), so a restart repeats it."""

    at: float = float("-inf")

    def now(self, batch: Sequence[Sourced]) -> float:
        return self.at


@dataclass(slots=True)
class LiveRunner(Runner):
    """The shared runner, with event time that never moves back: a source back from idle, or
    the idle wall clock having moved time on, does not take it back."""

    floor: EventTime | None = None

    def advance(self, events: list[InputEvent], now: EventTime) -> list[PipelineOutput]:
        if self.floor is not None and now < self.floor:
            now = self.floor
        self.floor = now
        return Runner.advance(self, events, now)


def idle_event_time(
    marks: WatermarkState, idle_source_s: float, clock: float
) -> EventTime | None:
    """Event time the wall ``clock`` allows when every source is idle; ``None`` otherwise.

    Each source in ``marks.sources`` is ``[event time, wall clock last heard, ...]``.

    >>> marks = WatermarkState(sources={"alerts": [1000.0, 5000.0, 0.0]})
    >>> idle_event_time(marks, 30.0, clock=5020.0) is None  # heard 20 s ago: not idle
    True
    >>> idle_event_time(marks, 30.0, clock=5100.0)  # idle: 100 s after it was heard, less 30
    1070.0
    """
    sources = marks.sources.values()
    if not sources or any(clock - heard[1] <= idle_source_s for heard in sources):
        return None
    return max(min(v[0] + clock - v[1], clock) for v in sources) - idle_source_s
