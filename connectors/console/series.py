"""Bounded in-memory history of metric series, so the console can chart a series around onset.

The pipeline keeps no raw history, so the runtime feeds this recorder every ``MetricPoint`` and
every metric ``Anomaly`` (see ``ConsoleRecorder.observe``). Memory is bounded two ways:

* every series keeps only its last ``pre_points`` points, and at most ``max_series`` series
  are tracked (the least recently updated is dropped first);
* a series that produces an anomaly is *pinned*: its pre-onset points are kept, then up to
  ``post_points`` more points are appended and the window freezes. At most ``max_pinned``
  windows are kept (oldest pin dropped first).

So the worst case is ``max_series * pre_points + max_pinned * (pre_points + post_points)``
points, each a pair of floats. The expected value and band of the detector are only known at
anomalous points (they travel in the anomaly's ``detail``); they are kept beside the window.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field

Point = tuple[float, float]
BandPoint = tuple[float, float | None, float | None, float | None]
"""``(ts, expected, low, high)`` as reported by the detector at an anomalous point."""


@dataclass(slots=True)
class SeriesWindow:
    """Points of one series around its first anomaly (``onset``), and the detector's band."""

    points: deque[Point]
    onset: float | None = None
    band: list[BandPoint] = field(default_factory=list)
    after_onset: int = 0


@dataclass(slots=True)
class SeriesRecorder:
    """Last points per series; windows around onset for series that produced anomalies.

    >>> rec = SeriesRecorder(pre_points=3, post_points=2)
    >>> for ts in range(6):
    ...     rec.record_point("cpu", float(ts), ts * 10.0)
    >>> rec.mark_anomaly("cpu", 5.0, expected=20.0, low=15.0, high=25.0)
    >>> for ts in range(6, 10):
    ...     rec.record_point("cpu", float(ts), 0.0)
    >>> w = rec.window("cpu")
    >>> [ts for ts, _ in w.points], w.onset, w.band
    ([3.0, 4.0, 5.0, 6.0, 7.0], 5.0, [(5.0, 20.0, 15.0, 25.0)])
    """

    pre_points: int = 60
    post_points: int = 120
    max_series: int = 5000
    max_pinned: int = 500
    _live: OrderedDict[str, deque[Point]] = field(default_factory=OrderedDict)
    _pinned: OrderedDict[str, SeriesWindow] = field(default_factory=OrderedDict)

    def __post_init__(self) -> None:
        if min(self.pre_points, self.post_points, self.max_series, self.max_pinned) < 1:
            raise ValueError("pre_points, post_points, max_series, max_pinned must be >= 1")

    def record_point(self, key: str, ts: float, value: float) -> None:
        pinned = self._pinned.get(key)
        if pinned is not None:
            _append_pinned(pinned, ts, value, self.post_points)
            return
        points = self._live.get(key)
        if points is None:
            points = self._live[key] = deque(maxlen=self.pre_points)
            if len(self._live) > self.max_series:
                self._live.popitem(last=False)
        else:
            self._live.move_to_end(key)
        points.append((ts, value))

    def mark_anomaly(
        self,
        key: str,
        ts: float,
        expected: float | None = None,
        low: float | None = None,
        high: float | None = None,
    ) -> None:
        """Pin ``key`` at its first anomaly (keeping its recent points) and note the band."""
        window = self._pinned.get(key)
        if window is None:
            window = self._pin(key, ts)
        if len(window.band) < self.post_points + 1:
            window.band.append((ts, expected, low, high))

    def _pin(self, key: str, onset: float) -> SeriesWindow:
        before = self._live.pop(key, deque())
        points: deque[Point] = deque(before, maxlen=self.pre_points + self.post_points)
        window = SeriesWindow(points, onset, after_onset=sum(1 for ts, _ in before if ts > onset))
        self._pinned[key] = window
        if len(self._pinned) > self.max_pinned:
            self._pinned.popitem(last=False)
        return window

    def window(self, key: str) -> SeriesWindow | None:
        """The pinned window of ``key`` (``None`` if it never produced an anomaly here)."""
        return self._pinned.get(key)

    @property
    def point_count(self) -> int:
        live = sum(len(p) for p in self._live.values())
        return live + sum(len(w.points) for w in self._pinned.values())


def _append_pinned(window: SeriesWindow, ts: float, value: float, post_points: int) -> None:
    if window.after_onset >= post_points:
        return  # frozen: the window around onset is complete
    window.points.append((ts, value))
    if window.onset is not None and ts > window.onset:
        window.after_onset += 1
