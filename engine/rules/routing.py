"""Rule section ``routing``: receivers and the routing tree that maps incidents to them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from engine.rules.base import StrictModel
from engine.rules.errors import RuleProblem

if TYPE_CHECKING:
    from engine.rules.schema import Locator, RuleSet


class Receiver(StrictModel):
    name: str = Field(min_length=1)
    type: Literal["console", "file"] = "console"
    path: str | None = None
    """For ``file`` receivers: the JSON Lines file, relative to the output folder."""


class Route(StrictModel):
    receiver: str
    match: dict[str, str] = Field(default_factory=dict)
    """Exact matches on incident fields (``severity``) and labels (``service``, ``cluster``)."""
    continue_matching: bool = Field(False, alias="continue")
    routes: list[Route] = Field(default_factory=list)


class RoutingRules(StrictModel):
    receivers: list[Receiver] = Field(default_factory=lambda: [Receiver(name="console")])
    route: Route = Field(default_factory=lambda: Route(receiver="console"))


def check_routing(rules: RuleSet, at: Locator) -> list[RuleProblem]:
    """Every route names a defined receiver; receiver names are unique."""
    problems: list[RuleProblem] = []
    names: set[str] = set()
    for i, receiver in enumerate(rules.routing.receivers):
        if receiver.name in names:
            problems.append(
                at.problem(
                    ("routing", "receivers", i, "name"),
                    f"duplicate receiver name {receiver.name!r}",
                )
            )
        names.add(receiver.name)

    def walk(route: Route, path: tuple[str | int, ...]) -> None:
        if route.receiver not in names:
            problems.append(
                at.problem(
                    (*path, "receiver"),
                    f"unknown receiver {route.receiver!r} "
                    f"(defined: {', '.join(sorted(names)) or 'none'})",
                )
            )
        for j, child in enumerate(route.routes):
            walk(child, (*path, "routes", j))

    walk(rules.routing.route, ("routing", "route"))
    return problems
