"""Event-time reordering for the incident stage: buffer, release in a total order, de-duplicate.

The correlator's grouping depends on the order it sees members in. Anomalies reach the incident
stage from many detect partitions, interleaved differently on every run, and at-least-once
delivery repeats some of them after a crash. ``EventReorder`` makes the stage's input a function
of the *set* of events and the watermark: an event waits in the state until ``now`` (a
watermark: no event at or before it is still to come) reaches its ts, then all released events
come out sorted by ``(ts, kind, id)``; an event whose key was already released or is pending is
a duplicate and is dropped (counted). Keys are remembered for ``dedupe_horizon_s`` of event time
behind ``now``.

An event at or before the last released watermark that is not a duplicate broke the watermark's
promise: within the horizon it is released at once (out of order, counted ``late``); older than
the horizon it becomes a ``Rejected`` (``late: ...``) because it can no longer be told from a
re-delivery.

Alerts are the exception. An alert is state, not a sample: Alertmanager re-sends every firing
alert with its original ``startsAt`` whenever its group is notified again (every
``repeat_interval``, 4 h by default); without an arrival time that is our ``ts``, so a
long-firing alert always arrives "late" (with one, each re-send has its own ``ts`` and key, and
reaches the correlator as activity). Alert keys
are remembered apart, for ``alert_horizon_s`` of event time after they were *last received*
(each re-send refreshes them): a re-send is a duplicate however old its ``ts``, and an alert
never seen before is released at once (counted ``late``), never dead-lettered. At most
``max_alert_keys`` are remembered (``engine.correlate.alerts.RecentKeys``: O(log n) per alert);
past that the least recently received is evicted (``ReorderState.alerts_evicted``, exported
as ``vigil_alerts_evicted_total{memory="reorder"}``) and its next re-send is released late.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

from engine.correlate.alerts import MAX_ALERTS, RecentKeys
from engine.events import (
    Alert,
    Anomaly,
    Change,
    EventTime,
    Rejected,
    TopologyUpdate,
    stable_id,
)
from engine.operator import OperatorExample, register_example
from engine.vocabulary import JsonDict

ReorderInput = Anomaly | Alert | Change | TopologyUpdate

ALERT_HORIZON_S: Final = 86400.0
"""How long (event time) a received alert's key is remembered after its last re-send: longer
than Alertmanager's default ``repeat_interval`` (4 h) and the usual 12 h / 24 h settings."""

MAX_ALERT_KEYS: Final = 2 * MAX_ALERTS
"""Alert keys remembered at most (a key per notification state: firing and resolved)."""

_KINDS: Final = ("topology", "change", "alert", "anomaly")
"""Release order among events with the same ts: the topology first (members are placed on it),
changes before the alerts and anomalies they may explain."""
_ENCODE: Final[dict[type, tuple[str, Callable[[Any], dict[str, Any]]]]] = {
    TopologyUpdate: ("topology", TopologyUpdate.to_dict),
    Change: ("change", Change.to_dict),
    Alert: ("alert", Alert.to_dict),
    Anomaly: ("anomaly", lambda a: a.to_wire(labels=True)),
}
_DECODE: Final[dict[str, Callable[[dict[str, Any]], Any]]] = {
    "topology": TopologyUpdate.from_dict,
    "change": Change.from_dict,
    "alert": Alert.from_dict,
    "anomaly": Anomaly.from_wire,
}


class Pending(NamedTuple):
    """An event waiting for the watermark, in its plain form; tuples sort in release order
    ``(ts, rank, key)``. Written to state as the list ``[ts, rank, key, kind, body]``."""

    ts: float
    rank: int
    """Position of ``kind`` in the release order among events with the same ts."""
    key: str
    kind: str
    body: dict[str, Any]


def event_key(kind: str, body: dict[str, Any]) -> str:
    """Identity of an event for de-duplication (the same event re-delivered has the same key).

    Anomalies carry a stable id; an alert's id names the alert, not one notification of it,
    so its status and ts are part of the key; changes and topology updates are keyed by content.
    """
    if kind == "anomaly":
        return str(body["id"])
    if kind == "alert":
        return stable_id("al", body["fingerprint"], body["status"], body["ts"])
    return stable_id(kind[:2], sorted(body.items()))


@dataclass(slots=True)
class ReorderState:
    """Pending events (``Pending``), released keys ``{key: ts}``, alert
    keys ``{key: event time last received}`` (indexed by time), the watermark released up to
    (``None`` before the first release), counts and how many alert keys the cap evicted."""

    pending: list[Pending] = field(default_factory=list)
    released: dict[str, float] = field(default_factory=dict)
    alerts: RecentKeys = field(default_factory=RecentKeys)
    released_to: float | None = None
    counts: dict[str, int] = field(
        default_factory=lambda: {"released": 0, "duplicate": 0, "late": 0, "too_late": 0}
    )
    alerts_evicted: int = 0
    version: int = 3

    def to_dict(self) -> JsonDict:
        return {
            "version": self.version,
            "pending": [list(p) for p in self.pending],
            "released": dict(self.released),
            "alerts": dict(self.alerts.times),
            "released_to": self.released_to,
            "counts": dict(self.counts),
            "alerts_evicted": self.alerts_evicted,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReorderState:
        """Reads versions 1 (no ``alerts``: its alert keys stay in ``released``), 2 and 3."""
        if data.get("version", 1) < 3:
            data = _upgrade_to_v3(data)
        return cls(
            pending=[Pending(*p) for p in data["pending"]],
            released={str(k): float(v) for k, v in data["released"].items()},
            alerts=RecentKeys({str(k): float(v) for k, v in data["alerts"].items()}),
            released_to=data["released_to"],
            counts={str(k): int(v) for k, v in data["counts"].items()},
            alerts_evicted=int(data["alerts_evicted"]),
        )


def _upgrade_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    """Versions 1 and 2 had no cap on alert keys (nothing evicted); version 1 had no alert
    keys at all (they stay in ``released`` and age out with it)."""
    return {**data, "alerts": data.get("alerts", {}), "alerts_evicted": 0, "version": 3}


@dataclass(frozen=True, slots=True)
class EventReorder:
    """Hold incident-stage events until the watermark passes them; release them in
    ``(ts, kind, key)`` order, each event once. Updates ``state`` in place and returns it.

    ``now`` is a watermark: the caller promises no event with ``ts <= now`` is still to come.

    Examples
    --------
    >>> from engine.events import AnomalyKind, Severity
    >>> from engine.testing import T0
    >>> def an(i, ts):
    ...     return Anomaly(f"an-{i}", T0 + ts, AnomalyKind.METRIC, "db", {}, 0.9, Severity.WARNING)
    >>> op = EventReorder()
    >>> state, out = op.process(op.initial_state(), [an(2, 60), an(1, 0), an(3, 120)], now=T0 + 60)
    >>> [a.id for a in out], len(state.pending)
    (['an-1', 'an-2'], 1)
    >>> state, out = op.process(state, [an(2, 60), an(3, 120)], now=T0 + 120)  # re-delivered
    >>> [a.id for a in out], state.counts["duplicate"]
    (['an-3'], 2)
    """

    dedupe_horizon_s: float = 3600.0
    alert_horizon_s: float = ALERT_HORIZON_S
    max_alert_keys: int = MAX_ALERT_KEYS
    name: str = "reorder"

    def __post_init__(self) -> None:
        if not self.dedupe_horizon_s >= 0:
            raise ValueError(f"dedupe_horizon_s must be >= 0, got {self.dedupe_horizon_s}")
        if not self.alert_horizon_s >= self.dedupe_horizon_s:
            raise ValueError(f"alert_horizon_s must be >= dedupe_horizon_s"
                             f" ({self.dedupe_horizon_s}), got {self.alert_horizon_s}")
        if self.max_alert_keys < 1:
            raise ValueError(f"max_alert_keys must be >= 1, got {self.max_alert_keys}")

    def initial_state(self) -> ReorderState:
        return ReorderState()

    def process(
        self, state: ReorderState, batch: Sequence[ReorderInput], *, now: EventTime
    ) -> tuple[ReorderState, list[ReorderInput | Rejected]]:
        out: list[ReorderInput | Rejected] = []
        waiting = {p.key for p in state.pending} if batch else set()
        for event in batch:
            kind, encode = _ENCODE[type(event)]
            body = encode(event)
            key = event_key(kind, body)
            if kind == "alert" and key in state.alerts:  # a re-sent alert: still firing
                state.alerts.touch(key, max(state.alerts[key], now))
                state.counts["duplicate"] += 1
            elif key in waiting or key in state.released:
                state.counts["duplicate"] += 1
            elif state.released_to is not None and event.ts <= state.released_to:
                out.append(self._late(state, event, key, now))
            else:
                waiting.add(key)
                state.pending.append(Pending(event.ts, _KINDS.index(kind), key, kind, body))
        out.extend(self._release(state, now))
        return state, out

    def _late(
        self, state: ReorderState, event: ReorderInput, key: str, now: EventTime
    ) -> ReorderInput | Rejected:
        """An event behind the released watermark: out of order if recent or an alert, else a
        dead letter."""
        if isinstance(event, Alert):
            state.counts["late"] += 1
            self._remember_alert(state, key, now)
            return event
        if event.ts < now - self.dedupe_horizon_s:
            state.counts["too_late"] += 1
            error = (
                f"late: ts {event.ts} is older than the incident stage's de-duplication horizon"
                f" ({self.dedupe_horizon_s}s before {now})"
            )
            return Rejected("incident-stage", error, repr(event).encode())
        state.counts["late"] += 1
        state.released[key] = event.ts
        return event

    def _release(self, state: ReorderState, now: EventTime) -> list[ReorderInput]:
        """Pop pending events with ``ts <= now`` in order; forget keys older than the horizon."""
        if state.released_to is not None and now <= state.released_to:
            return []
        ready = sorted((p for p in state.pending if p.ts <= now), key=lambda p: p[:3])
        if ready:
            state.pending = [p for p in state.pending if p.ts > now]
        for p in ready:
            if p.kind == "alert":
                self._remember_alert(state, p.key, now)
            else:
                state.released[p.key] = p.ts
        horizon = now - self.dedupe_horizon_s
        if state.released and min(state.released.values()) < horizon:
            state.released = {k: t for k, t in state.released.items() if t >= horizon}
        horizon = now - self.alert_horizon_s
        state.alerts.expire(lambda t: t < horizon)
        state.released_to = now
        state.counts["released"] += len(ready)
        return [_DECODE[p.kind](p.body) for p in ready]


    def _remember_alert(self, state: ReorderState, key: str, now: EventTime) -> None:
        state.alerts.touch(key, now)
        state.alerts_evicted += len(state.alerts.evict_over(self.max_alert_keys))


def _example_batch() -> list[ReorderInput]:
    """One event per ts, rising (a split batch then respects the per-call watermark), each
    third one re-delivered after the next."""
    from testing.examples import example_stream

    fresh = list({e.ts: e for e in reversed(example_stream())}.values())[::-1]
    batch: list[ReorderInput] = []
    for i, event in enumerate(fresh):
        batch.append(event)
        if i % 3 == 2:
            batch.append(fresh[i - 1])
    return [*batch, fresh[-1]] if batch[-1] is not fresh[-1] else batch


register_example(OperatorExample("reorder", EventReorder, _example_batch, ReorderState, now=None))
