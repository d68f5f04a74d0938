"""Retraining / fallback planner (placeholder; issue 8 delivers it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.events import Action, Anomaly, EventTime, Incident, RetrainRequest
from engine.operator import NullState
from engine.rules.monitoring import MonitoringConfig


@dataclass(frozen=True, slots=True)
class RetrainPlanner:
    name: str = "retrain"

    @classmethod
    def from_rules(cls, rules: MonitoringConfig | None) -> RetrainPlanner:
        return cls()

    def initial_state(self) -> NullState:
        return NullState()

    def process(
        self, state: NullState, batch: Sequence[Anomaly | Incident], *, now: EventTime
    ) -> tuple[NullState, list[RetrainRequest | Action]]:
        return state, []
