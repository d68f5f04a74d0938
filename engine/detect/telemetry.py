"""Which nodes have telemetry: one *telemetry mark* per node whose metrics or logs arrive.

The correlator sees anomalies, holds and alerts, not points: a healthy node that never blipped
looks the same to it as a node with no telemetry at all (an unobserved root, silent because
nothing measures it). This operator runs in the detect stage and emits, the first time it
sees a metric point or a log record of a node, an internal ``Anomaly``: kind ``metric`` (or
``log``), score 0, severity ``info``, ``detail["telemetry"] = true``, labelled with the
point's ``cluster`` if any (the incident stage's scope), its stable id from the node, the
cluster and the point's ts. The correlator marks the node *observed* (``Topology.observe``)
and does nothing else with it. Like a recovery-watch hold it is internal: ``Pipeline`` leaves
it out of its outputs, the worker sends it to the repartition topic only.

A mark is idempotent: a state restored without this part, or another detect partition,
marks a node again, to no effect. The id carries the ts so that each partition's mark
reaches the correlator (the incident stage drops a repeated id): the earliest, the one the
embedded pipeline emits, marks the node first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.events import Anomaly, AnomalyKind, EventTime, Severity, stable_id
from engine.vocabulary import JsonDict

STATE_VERSION = 1
SCOPE_LABEL = "cluster"
"""The label that scopes the incident stage (one per cluster): a mark carries it."""

Seen = tuple[str, str, EventTime, AnomalyKind]
"""A point or record: its node, its cluster ('' when none), ts and kind."""


@dataclass(slots=True)
class TelemetryState:
    """The (node, cluster) pairs already marked."""

    nodes: set[tuple[str, str]] = field(default_factory=set)
    version: int = STATE_VERSION

    def to_dict(self) -> JsonDict:
        return {"version": self.version, "nodes": [list(n) for n in sorted(self.nodes)]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TelemetryState:
        return cls(nodes={(str(n), str(c)) for n, c in data.get("nodes", [])})


@dataclass(frozen=True, slots=True)
class TelemetryMarks:
    """Each point or record seen (``Seen``) -> a mark for each new node (per cluster).

    >>> marks = TelemetryMarks()
    >>> state, out = marks.process(marks.initial_state(), [("db", "", 60.0, AnomalyKind.METRIC),
    ...                            ("db", "", 120.0, AnomalyKind.LOG)], now=120.0)
    >>> [(a.node, a.ts, is_telemetry(a)) for a in out]
    [('db', 60.0, True)]
    >>> marks.process(state, [("db", "", 180.0, AnomalyKind.METRIC)], now=180.0)[1]
    []
    """

    name: str = "telemetry"

    def initial_state(self) -> TelemetryState:
        return TelemetryState()

    def process(
        self,
        state: TelemetryState,
        seen: Iterable[Seen],
        *,
        now: EventTime,
    ) -> tuple[TelemetryState, list[Anomaly]]:
        first: dict[tuple[str, str], tuple[EventTime, AnomalyKind]] = {}
        for node, scope, ts, kind in seen:
            key = (node, scope)
            if key not in state.nodes and (key not in first or ts < first[key][0]):
                first[key] = (ts, kind)
        state.nodes.update(first)
        return state, [_mark(*key, *first[key]) for key in sorted(first)]


def _mark(node: str, scope: str, ts: EventTime, kind: AnomalyKind) -> Anomaly:
    return Anomaly(
        id=stable_id("an", "telemetry", node, scope, ts),
        ts=ts,
        kind=kind,
        node=node,
        subject={},
        score=0.0,
        severity=Severity.INFO,
        detail={"telemetry": True},
        labels={SCOPE_LABEL: scope} if scope else {},
    )


def is_telemetry(anomaly: Anomaly) -> bool:
    """Whether ``anomaly`` is a telemetry mark (the node has metrics or logs)."""
    return anomaly.detail.get("telemetry") is True
