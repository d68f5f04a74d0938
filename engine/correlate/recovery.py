"""Recovery watch: is a series that went anomalous back inside its pre-incident band?

A detector adapts: a few minutes into a lasting fault its baseline has learnt the new level and
it stops flagging, although the series is still far from where it was. Resolving an incident
when its anomalies stop would then resolve it during the outage. This operator remembers, per
series, the normal band the detector reported with the *first* anomaly of an episode (its
band before it learnt anything from the fault) and watches the series' later points against
that fixed band:

* while points stay outside it, it emits a *hold* every ``every_s``: an ``Anomaly`` of kind
  ``metric`` with score 0, severity ``info`` and ``detail["outside_band"] = true`` (plus
  ``value``, ``band`` and ``since``). The correlator treats a hold as "this member is still
  bad": it keeps the incident holding that node open, and never opens, joins or ranks on it;
* once ``recover_points`` points in a row are back inside the band, the watch ends;
* a series that stops reporting while outside its band (an exporter or host down in the
  outage) is not back: once it has reported nothing for ``every_s``, it keeps emitting holds
  every ``every_s`` of event time (``detail["silent_since"]``: its last point's time) until it
  reports again and is judged as above, or until it has been silent ``max_silent_s`` (then the
  watch ends: a series replaced by another, e.g. a restarted pod's, must not hold an incident
  open for hours). A series whose last point was back inside the band emits none while silent;
* a watch also ends after ``max_watch_s`` (a level that never comes back, e.g. a deliberate
  change, must not hold an incident open for ever).

It runs in the detect stage (keyed by series, like the detectors) so that the incident stage
needs nothing but the anomaly stream it already receives. Holds are internal: the pipeline
hands them to the incident stage only (``Pipeline.process`` leaves them out of its outputs; the
worker sends them to the repartition topic, not to ``anomalies``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.detect.series_keys import SeriesKeys
from engine.events import (
    Anomaly,
    AnomalyKind,
    EventTime,
    MetricPoint,
    Severity,
    series_key,
    stable_id,
)
from engine.vocabulary import JsonDict

STATE_VERSION = 2
SCAN_EVERY_S = 60.0
"""How often (event time) the watches are scanned for series that stopped reporting."""


@dataclass(slots=True)
class Watch:
    """One watched series: its pre-incident ``band`` [lo, hi], the ``node`` its holds name,
    when the watch started (``since``) and last held, and how many consecutive points have
    been back inside the band (``inside``); the series' ``subject`` (name and labels, what a
    hold names while it is silent; None: not known, no hold while silent) and its last point's
    time (``last_ts``) and value."""

    band: tuple[float, float]
    node: str
    since: EventTime
    last_hold: EventTime
    inside: int = 0
    subject: JsonDict | None = None
    last_ts: EventTime = 0.0
    last_value: float = 0.0

    def to_dict(self) -> JsonDict:
        return {"band": list(self.band), "node": self.node, "since": self.since,
                "last_hold": self.last_hold, "inside": self.inside, "subject": self.subject,
                "last_ts": self.last_ts, "last_value": self.last_value}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Watch:
        lo, hi = data["band"]
        return cls((lo, hi), data["node"], data["since"], data["last_hold"], data["inside"],
                   data["subject"], data["last_ts"], data["last_value"])


@dataclass(slots=True)
class RecoveryState:
    """Series key -> its ``Watch``."""

    watches: dict[str, Watch] = field(default_factory=dict)
    version: int = STATE_VERSION
    keys: SeriesKeys = field(default_factory=SeriesKeys, compare=False, repr=False)
    """Series key memo (a cache, never serialized)."""
    next_scan: EventTime = field(default=float("-inf"), compare=False, repr=False)
    """When to scan for silent series next (a cache, never serialized)."""

    def key_of(self, point: MetricPoint) -> str:
        """``point.key``, remembered (``engine.detect.series_keys``)."""
        return self.keys.key_of(point)

    def to_dict(self) -> JsonDict:
        return {
            "version": self.version,
            "watches": {k: w.to_dict() for k, w in self.watches.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RecoveryState:
        if data.get("version", 1) < 2:
            data = _upgrade_v1(data)
        watches = {k: Watch.from_dict(w) for k, w in data["watches"].items()}
        return cls(watches=watches, version=STATE_VERSION)


def _upgrade_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 kept no subject nor last point: an upgraded watch never holds while its
    series is silent (as before); its last point is taken to be its last hold."""
    watches = {
        key: {**w, "subject": None, "last_ts": w["last_hold"], "last_value": 0.0}
        for key, w in data["watches"].items()
    }
    return {**data, "watches": watches, "version": 2}


@dataclass(frozen=True, slots=True)
class RecoveryWatch:
    """Watches anomalous series against their pre-incident band; emits holds (module doc).

    Updates ``state`` in place and returns it. The batch holds metric points and the metric
    anomalies the detector found on them (in any order: the anomalies are indexed first).

    Examples
    --------
    >>> from engine.testing import pt
    >>> def an(ts, value):
    ...     return Anomaly(f"an-{ts}", ts, AnomalyKind.METRIC, "api",
    ...                    {"name": "api", "labels": {"service": "api"}}, 0.9,
    ...                    Severity.ERROR, {"value": value, "band": [0.0, 2.0]})
    >>> op = RecoveryWatch(every_s=120.0, recover_points=2)
    >>> points = [pt("api", v, 60.0 * i) for i, v in enumerate([9, 9, 9, 9, 1, 1, 9])]
    >>> _, out = op.process(op.initial_state(), [*points, an(0.0, 9.0)], now=360.0)
    >>> [(a.ts, a.detail["outside_band"], a.detail["since"]) for a in out]
    [(120.0, True, 0.0)]
    """

    every_s: float = 300.0
    recover_points: int = 3
    max_watch_s: float = 14400.0
    max_silent_s: float = 3600.0
    name: str = "recovery"

    def __post_init__(self) -> None:
        if self.every_s <= 0 or self.max_watch_s < 0:
            raise ValueError("every_s must be > 0 and max_watch_s >= 0")
        if self.recover_points < 1:
            raise ValueError(f"recover_points must be >= 1, got {self.recover_points}")

    def initial_state(self) -> RecoveryState:
        return RecoveryState()

    def process(
        self, state: RecoveryState, batch: Sequence[MetricPoint | Anomaly], *, now: EventTime
    ) -> tuple[RecoveryState, list[Anomaly]]:
        """Start watches at anomalies, judge each later point of a watched series."""
        if self.max_watch_s <= 0:
            return state, []
        onsets = {
            (_key_of(a), a.ts): a
            for a in batch
            if isinstance(a, Anomaly) and _band_of(a) is not None
        }
        if not onsets and not state.watches:  # nothing watched: the common case, per point
            return state, []
        relevant = state.watches.keys() | {key for key, _ in onsets}  # other series: no-ops
        points = [p for p in batch if isinstance(p, MetricPoint)]
        keyed = sorted(((p, k) for p in points if (k := state.key_of(p)) in relevant),
                       key=lambda pk: pk[0].ts)
        out: list[Anomaly] = []
        done = 0
        latest = max(now, max((p.ts for p in points), default=now))
        ticks = (sorted({p.ts for p in points} | {now})  # event time, however batched
                 if latest >= state.next_scan else [latest])
        for tick in ticks:
            while done < len(keyed) and keyed[done][0].ts <= tick:
                self._judge_point(state, *keyed[done], onsets, out)
                done += 1
            if tick >= state.next_scan:
                state.next_scan = tick + SCAN_EVERY_S
                out.extend(self._hold_silent(state, tick))
        return state, out

    def _judge_point(
        self,
        state: RecoveryState,
        point: MetricPoint,
        key: str,
        onsets: dict[tuple[str, EventTime], Anomaly],
        out: list[Anomaly],
    ) -> None:
        watch = state.watches.get(key)
        onset = onsets.get((key, point.ts))
        if watch is None or point.ts - watch.since > self.max_watch_s:
            state.watches.pop(key, None)
            if onset is not None:
                state.watches[key] = _start(onset, point)
            return
        hold = self._judge(watch, point, key)
        if hold is not None:
            out.append(hold)
        elif watch.inside >= self.recover_points:
            del state.watches[key]

    def _judge(self, watch: Watch, point: MetricPoint, key: str) -> Anomaly | None:
        watch.last_ts, watch.last_value = max(watch.last_ts, point.ts), point.value
        lo, hi = watch.band
        if lo <= point.value <= hi:
            watch.inside += 1
            return None
        watch.inside = 0
        if point.ts - watch.last_hold < self.every_s:
            return None
        watch.last_hold = point.ts
        subject: JsonDict = {"name": point.name, "labels": dict(point.labels)}
        return _hold(key, watch, point.ts, subject, {"value": point.value})

    def _hold_silent(self, state: RecoveryState, now: EventTime) -> list[Anomaly]:
        """Holds for watched series silent for ``every_s`` whose last point was outside the
        band (a series gone quiet in an outage is not back); watches past ``max_watch_s``, or
        silent for more than ``max_silent_s``, end."""
        out: list[Anomaly] = []
        for key, watch in list(state.watches.items()):
            if now - watch.since > self.max_watch_s or now - watch.last_ts > self.max_silent_s:
                del state.watches[key]
                continue
            if watch.inside or watch.subject is None or now - watch.last_ts < self.every_s:
                continue
            if now - watch.last_hold < self.every_s:
                continue
            watch.last_hold = now
            detail: JsonDict = {"value": watch.last_value, "silent_since": watch.last_ts}
            out.append(_hold(key, watch, now, watch.subject, detail))
        return out


def _hold(key: str, watch: Watch, ts: EventTime, subject: JsonDict, extra: JsonDict) -> Anomaly:
    labels = subject["labels"]
    return Anomaly(
        id=stable_id("an", "hold", key, ts),
        ts=ts,
        kind=AnomalyKind.METRIC,
        node=watch.node,
        subject=subject,
        score=0.0,
        severity=Severity.INFO,
        detail={"outside_band": True, **extra, "band": list(watch.band), "since": watch.since},
        labels={str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {},
    )


def is_hold(anomaly: Anomaly) -> bool:
    """Whether ``anomaly`` is a recovery-watch hold (still outside its pre-incident band)."""
    return anomaly.detail.get("outside_band") is True


def _band_of(anomaly: Anomaly) -> list[float] | None:
    band = anomaly.detail.get("band")
    if anomaly.kind is not AnomalyKind.METRIC or is_hold(anomaly) or not isinstance(band, list):
        return None
    if len(band) != 2 or not all(isinstance(b, int | float) for b in band):
        return None
    subject = anomaly.subject
    if not isinstance(subject.get("name"), str) or not isinstance(subject.get("labels"), dict):
        return None
    return [float(band[0]), float(band[1])]


def _key_of(anomaly: Anomaly) -> str:
    """The series key of a metric anomaly (its subject: the point's name and labels)."""
    labels = anomaly.subject["labels"]
    pairs = labels.items() if isinstance(labels, dict) else ()  # a dict: checked by _band_of
    return series_key(str(anomaly.subject["name"]), {k: str(v) for k, v in pairs})


def _start(onset: Anomaly, point: MetricPoint) -> Watch:
    band = _band_of(onset)
    if band is None:  # onsets are only anomalies with a band
        raise ValueError(f"anomaly {onset.id} has no band to watch")
    subject: JsonDict = {"name": point.name, "labels": dict(point.labels)}
    return Watch((band[0], band[1]), onset.node, point.ts, point.ts, 0, subject, point.ts,
                 point.value)
