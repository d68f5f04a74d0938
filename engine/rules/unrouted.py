"""Warnings (not errors) about rules that load but cannot work as meant.

``warn_unrouted``: an enabled receiver that no route names and that the monitoring section does
not send to directly would never receive anything; nothing else would say so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.rules.errors import RuleProblem
from engine.rules.routing import Route

if TYPE_CHECKING:
    from engine.rules.schema import Locator, RuleSet


def warn_unrouted(rules: RuleSet, at: Locator) -> list[RuleProblem]:
    """One warning per enabled receiver nothing sends to (``file:line: key: warning: ...``)."""
    reached = _routed(rules.routing.route) | _monitoring_targets(rules)
    warnings = []
    for i, receiver in enumerate(rules.routing.receivers):
        if receiver.enabled and receiver.name not in reached:
            warnings.append(
                at.problem(
                    ("routing", "receivers", i, "name"),
                    f"warning: receiver {receiver.name!r} is enabled but no route names it "
                    "(and no monitoring alert or action sends to it): it never gets anything",
                )
            )
    return warnings


def _routed(route: Route) -> set[str]:
    names = {route.receiver} if route.receiver else set()
    for child in route.routes:
        names |= _routed(child)
    return names


def _monitoring_targets(rules: RuleSet) -> set[str]:
    """Receivers the monitoring section sends to without the route tree."""
    monitoring = rules.monitoring
    if monitoring is None:
        return set()
    names = {name for _, name in monitoring.receivers}
    for spec in [monitoring, *monitoring.models]:
        actions = spec.actions
        lists = (*actions.on_drift_detected, *actions.on_performance_degradation)
        if "trigger_investigation_notebook" in lists:
            names.add(actions.notebook_receiver)
    return names
