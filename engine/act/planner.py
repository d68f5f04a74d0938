"""Action planner (placeholder: every incident record to the root route's receiver; issue 6)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.events import Action, EventTime, Incident, stable_id
from engine.operator import NullState
from engine.rules.routing import RoutingRules


@dataclass(frozen=True, slots=True)
class ActionPlanner:
    receiver: str = "console"
    receiver_type: str = "console"
    name: str = "act"

    @classmethod
    def from_rules(cls, rules: RoutingRules) -> ActionPlanner:
        kinds = {r.name: r.type for r in rules.receivers}
        return cls(rules.route.receiver, kinds.get(rules.route.receiver, "console"))

    def initial_state(self) -> NullState:
        return NullState()

    def process(
        self, state: NullState, batch: Sequence[Incident], *, now: EventTime
    ) -> tuple[NullState, list[Action]]:
        out = [
            Action(
                id=stable_id("act", i.id, self.receiver, i.status.value, i.revision),
                ts=i.updated_at,
                incident=i.id,
                receiver=self.receiver,
                type=self.receiver_type,
                dedup_key=i.id,
                payload={"incident": i.to_wire()},
            )
            for i in batch
        ]
        return state, out
