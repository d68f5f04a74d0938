"""Walk the routing tree: which receivers an incident goes to, with which timings.

Alertmanager's semantics: a route matches when all its matchers hold; the deepest matching
children win; a matching child stops the search among its siblings unless it sets
``continue``; a route with no matching child handles the record itself. Timings not set on a
route are inherited from its parent, and the root's defaults are those below.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from engine.events import Incident
from engine.rules.matchers import match_all
from engine.rules.routing import Route


@dataclass(frozen=True, slots=True)
class RouteSettings:
    """Where to send and how often: the resolved settings of one matching route."""

    receiver: str
    group_wait_s: float = 30.0
    group_interval_s: float = 300.0
    repeat_interval_s: float = 14400.0
    flap_hold_s: float = 0.0

    def below(self, route: Route) -> RouteSettings:
        """These settings overridden by whatever ``route`` sets itself."""
        return replace(
            self,
            receiver=route.receiver or self.receiver,
            group_wait_s=_pick(route.group_wait, self.group_wait_s),
            group_interval_s=_pick(route.group_interval, self.group_interval_s),
            repeat_interval_s=_pick(route.repeat_interval, self.repeat_interval_s),
            flap_hold_s=_pick(route.flap_hold, self.flap_hold_s),
        )


DEFAULTS: Final = RouteSettings(receiver="")


def _pick(value: float | None, inherited: float) -> float:
    return inherited if value is None else value


def match_routes(
    route: Route, labels: dict[str, str], inherited: RouteSettings = DEFAULTS
) -> list[RouteSettings]:
    """Settings of every route that handles ``labels``, one per receiver, in tree order.

    >>> from engine.rules.routing import Route
    >>> tree = Route.model_validate({"receiver": "console", "routes": [
    ...     {"match": {"severity": "critical"}, "receiver": "pager", "continue": True},
    ...     {"matchers": ["service=~pay.*"], "receiver": "slack", "group_wait": 10}]})
    >>> [(s.receiver, s.group_wait_s) for s in match_routes(tree, {"severity": "critical",
    ...     "service": "payments"})]
    [('pager', 30.0), ('slack', 10.0)]
    >>> [s.receiver for s in match_routes(tree, {"severity": "warning"})]
    ['console']
    """
    settings = inherited.below(route)
    if not match_all(route.conditions(), labels):
        return []
    found: list[RouteSettings] = []
    for child in route.routes:
        hits = match_routes(child, labels, settings)
        found.extend(hits)
        if hits and not child.continue_matching:
            break
    if not found:
        found = [settings]
    unique: dict[str, RouteSettings] = {}
    for hit in found:
        unique.setdefault(hit.receiver, hit)
    return list(unique.values())


def incident_labels(incident: Incident) -> dict[str, str]:
    """The labels routes, inhibit rules, windows and silences match an incident by.

    The incident's own labels, plus ``kind`` (``incident``), ``severity``, ``status``,
    ``incident`` (its id), ``node`` (the top root cause, else the first node) and ``service``
    (the incident's service label, else ``node``).
    """
    node = incident.root_causes[0].node if incident.root_causes else ""
    if not node and incident.nodes:
        node = incident.nodes[0]
    labels = dict(incident.labels)
    labels.update(
        kind="incident",
        severity=incident.severity.value,
        status=incident.status.value,
        incident=incident.id,
        node=node,
    )
    labels.setdefault("service", node)
    return labels
