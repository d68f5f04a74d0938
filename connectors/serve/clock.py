"""Event time when no input comes: the wall clock moves it on once every source is idle.

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

from engine.events import EventTime
from engine.ingest.watermark import WatermarkState


def idle_event_time(
    marks: WatermarkState, idle_source_s: float, clock: float
) -> EventTime | None:
    """Event time the wall ``clock`` allows when every source is idle; ``None`` otherwise.

    Each source in ``marks.sources`` is ``[event time, wall clock last heard, ...]``.

    >>> marks = WatermarkState(sources={"http:alerts": [1000.0, 5000.0, 0.0]})
    >>> idle_event_time(marks, 30.0, clock=5020.0) is None  # heard 20 s ago: not idle
    True
    >>> idle_event_time(marks, 30.0, clock=5100.0)  # idle: 100 s after it was heard, less 30
    1070.0
    """
    sources = marks.sources.values()
    if not sources or any(clock - heard[1] <= idle_source_s for heard in sources):
        return None
    return max(min(v[0] + clock - v[1], clock) for v in sources) - idle_source_s
