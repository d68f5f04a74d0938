"""Inhibition: a firing incident that matches a rule's source mutes the matching targets.

As in Alertmanager, source and target must agree on every label named in ``equal`` (a label
missing on both sides counts as equal), and an incident never inhibits itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from engine.rules.matchers import match_all
from engine.rules.routing import InhibitRule


def inhibitor_of(
    rules: Sequence[InhibitRule],
    target_id: str,
    target: Mapping[str, str],
    firing: Mapping[str, Mapping[str, str]],
) -> str | None:
    """Id of a firing incident that inhibits ``target``, or ``None`` (smallest id wins).

    >>> from engine.rules.routing import InhibitRule
    >>> rule = InhibitRule(source_match={"severity": "critical"},
    ...                    target_match={"severity": "warning"}, equal=["cluster"])
    >>> firing = {"inc-a": {"severity": "critical", "cluster": "eu"}}
    >>> inhibitor_of([rule], "inc-b", {"severity": "warning", "cluster": "eu"}, firing)
    'inc-a'
    >>> inhibitor_of([rule], "inc-b", {"severity": "warning", "cluster": "us"}, firing) is None
    True
    """
    for rule in rules:
        if not match_all(rule.targets(), target):
            continue
        sources = rule.sources()
        for source_id in sorted(firing):
            source = firing[source_id]
            if source_id == target_id or not match_all(sources, source):
                continue
            if all(source.get(k, "") == target.get(k, "") for k in rule.equal):
                return source_id
    return None
