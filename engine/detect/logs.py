"""Log detector (placeholder; issue 4 delivers template mining and log anomalies)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.events import Anomaly, EventTime, LogRecord
from engine.operator import NullState
from engine.rules.logs import LogRules


@dataclass(frozen=True, slots=True)
class LogDetector:
    name: str = "logs"

    @classmethod
    def from_rules(cls, rules: LogRules) -> LogDetector:
        return cls()

    def initial_state(self) -> NullState:
        return NullState()

    def process(
        self, state: NullState, batch: Sequence[LogRecord], *, now: EventTime
    ) -> tuple[NullState, list[Anomaly]]:
        return state, []
