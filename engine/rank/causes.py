"""Root-cause ranker (placeholder: earliest anomalous node first; issue 5 replaces it)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from engine.events import EventTime, Incident, IncidentSnapshot, RootCause
from engine.operator import NullState
from engine.rules import RuleSet


@dataclass(frozen=True, slots=True)
class CauseRanker:
    name: str = "rank"

    @classmethod
    def from_rules(cls, rules: RuleSet) -> CauseRanker:
        return cls()

    def initial_state(self) -> NullState:
        return NullState()

    def process(
        self, state: NullState, batch: Sequence[IncidentSnapshot], *, now: EventTime
    ) -> tuple[NullState, list[Incident]]:
        out = []
        for snap in batch:
            first: dict[str, float] = {}
            for a in snap.anomalies:
                first[a.node] = min(first.get(a.node, a.ts), a.ts)
            causes = tuple(
                RootCause(n, 1.0 / (i + 1), "service", ("earliest onset",))
                for i, n in enumerate(sorted(first, key=lambda n: (first[n], n)))
            )
            out.append(dataclasses.replace(snap.incident, root_causes=causes))
        return state, out
