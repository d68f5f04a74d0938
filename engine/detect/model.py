"""ML model monitor (placeholder; issue 8 delivers drift and performance)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.events import Anomaly, EventTime, GroundTruth, Prediction
from engine.operator import NullState
from engine.rules.monitoring import MonitoringConfig


@dataclass(frozen=True, slots=True)
class ModelMonitor:
    name: str = "models"

    @classmethod
    def from_rules(cls, rules: MonitoringConfig | None) -> ModelMonitor:
        return cls()

    def initial_state(self) -> NullState:
        return NullState()

    def process(
        self, state: NullState, batch: Sequence[Prediction | GroundTruth], *, now: EventTime
    ) -> tuple[NullState, list[Anomaly]]:
        return state, []
