"""Which nodes have telemetry: one *telemetry mark* per node whose metrics or logs arrive.

The correlator sees anomalies, holds and alerts, not points: a healthy node that never blipped
looks the same to it as a node with no telemetry at all (an unobserved root, silent because
nothing measures it). This operator runs in the detect stage and emits, the first time it
sees a metric point or a log record of a node, an internal ``Anomaly``: kind ``metric`` (or
``log``), score 0, severity ``info``, ``detail["telemetry"] = true``, its stable id from the
node and the point's ts. The correlator marks the node *observed* (``Topology.observe``) and does nothing else
with it; like a recovery-watch hold it is internal (``Pipeline`` leaves it out of its outputs;
the worker sends it to the repartition topic only). A mark is idempotent: a state restored
without this part, or another detect partition, marks a node again, to no effect. The id
carries the ts so that each partition's mark reaches the correlator (the incident stage drops
a repeated id): the earliest, the one the embedded pipeline emits, marks the node first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.events import Anomaly, AnomalyKind, EventTime, Severity, stable_id
from engine.vocabulary import JsonDict

STATE_VERSION = 1


@dataclass(slots=True)
class TelemetryState:
    """The nodes already marked."""

    nodes: set[str] = field(default_factory=set)
    version: int = STATE_VERSION

    def to_dict(self) -> JsonDict:
        return {"version": self.version, "nodes": sorted(self.nodes)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TelemetryState:
        return cls(nodes={str(n) for n in data.get("nodes", [])})


@dataclass(frozen=True, slots=True)
class TelemetryMarks:
    """``(node, ts, kind)`` of each point or record seen -> a mark for each new node.

    >>> marks = TelemetryMarks()
    >>> state, out = marks.process(marks.initial_state(), [("db", 60.0, AnomalyKind.METRIC),
    ...                            ("db", 120.0, AnomalyKind.LOG)], now=120.0)
    >>> [(a.node, a.ts, is_telemetry(a)) for a in out]
    [('db', 60.0, True)]
    >>> marks.process(state, [("db", 180.0, AnomalyKind.METRIC)], now=180.0)[1]
    []
    """

    name: str = "telemetry"

    def initial_state(self) -> TelemetryState:
        return TelemetryState()

    def process(
        self,
        state: TelemetryState,
        seen: Iterable[tuple[str, EventTime, AnomalyKind]],
        *,
        now: EventTime,
    ) -> tuple[TelemetryState, list[Anomaly]]:
        first: dict[str, tuple[EventTime, AnomalyKind]] = {}
        for node, ts, kind in seen:
            if node not in state.nodes and (node not in first or ts < first[node][0]):
                first[node] = (ts, kind)
        state.nodes.update(first)
        return state, [_mark(node, ts, kind) for node, (ts, kind) in sorted(first.items())]


def _mark(node: str, ts: EventTime, kind: AnomalyKind) -> Anomaly:
    return Anomaly(
        id=stable_id("an", "telemetry", node, ts),
        ts=ts,
        kind=kind,
        node=node,
        subject={},
        score=0.0,
        severity=Severity.INFO,
        detail={"telemetry": True},
    )


def is_telemetry(anomaly: Anomaly) -> bool:
    """Whether ``anomaly`` is a telemetry mark (the node has metrics or logs)."""
    return anomaly.detail.get("telemetry") is True
