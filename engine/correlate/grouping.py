"""Correlator (placeholder: one incident per quiet-period-separated burst; issue 5 replaces it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.events import (
    Alert,
    Anomaly,
    Change,
    EventTime,
    Incident,
    IncidentSnapshot,
    IncidentStatus,
    Severity,
    TopologyUpdate,
    stable_id,
)
from engine.rules import RuleSet


@dataclass(slots=True)
class CorrelateState:
    open_id: str | None = None
    opened_at: float = 0.0
    last_ts: float = 0.0
    members: list[dict[str, Any]] = field(default_factory=list)
    revision: int = 0
    version: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "open_id": self.open_id,
            "opened_at": self.opened_at,
            "last_ts": self.last_ts,
            "members": list(self.members),
            "revision": self.revision,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CorrelateState:
        return cls(d["open_id"], d["opened_at"], d["last_ts"], list(d["members"]), d["revision"])


@dataclass(frozen=True, slots=True)
class Correlator:
    quiet_s: float = 900.0
    name: str = "correlate"

    @classmethod
    def from_rules(cls, rules: RuleSet) -> Correlator:
        return cls()

    def initial_state(self) -> CorrelateState:
        return CorrelateState()

    def process(
        self,
        state: CorrelateState,
        batch: Sequence[Anomaly | Alert | Change | TopologyUpdate],
        *,
        now: EventTime,
    ) -> tuple[CorrelateState, list[IncidentSnapshot]]:
        out: list[IncidentSnapshot] = []
        anomalies = [a for a in batch if isinstance(a, Anomaly)]
        for a in anomalies:
            if state.open_id is None:
                state.open_id, state.opened_at, state.members = stable_id("inc", a.id), a.ts, []
            state.members.append({"id": a.id, "node": a.node, "ts": a.ts})
            state.last_ts = a.ts
        if anomalies:
            out.append(self._snapshot(state, IncidentStatus.OPEN, anomalies))
        if state.open_id and now - state.last_ts > self.quiet_s:
            out.append(self._snapshot(state, IncidentStatus.RESOLVED, []))
            state.open_id, state.members = None, []
        return state, out

    def _snapshot(
        self, state: CorrelateState, status: IncidentStatus, anomalies: list[Anomaly]
    ) -> IncidentSnapshot:
        state.revision += 1
        inc = Incident(
            id=state.open_id or "",
            status=status,
            opened_at=state.opened_at,
            updated_at=state.last_ts,
            severity=Severity.WARNING,
            summary="",
            alerts=tuple(m["id"] for m in state.members),
            nodes=tuple(sorted({m["node"] for m in state.members})),
            revision=state.revision,
        )
        return IncidentSnapshot(inc, tuple(anomalies))
