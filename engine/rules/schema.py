"""The whole rule set: one optional section per concern, each defined in its own module.

``parse_documents`` validates every document, gathers every problem (file, line, key path,
message) and raises one ``RuleError``; cross-references between sections are checked here too,
by small per-section functions, so a bad rule fails at load rather than when it first fires.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from engine.rules.base import StrictModel
from engine.rules.correlation import CorrelationRules
from engine.rules.detectors import DetectorRules
from engine.rules.errors import RuleError, RuleProblem
from engine.rules.logs import LogRules
from engine.rules.monitoring import MonitoringConfig, check_monitoring
from engine.rules.routing import RoutingRules, check_routing
from engine.rules.runtime import RuntimeRules
from engine.rules.topology import TopologyRules
from engine.rules.unrouted import warn_unrouted
from engine.rules.yamltext import KeyPath, YamlDocument, load_yaml


class RuleSet(StrictModel):
    """Every section of Vigil's rules; a section absent from all files takes its defaults."""

    detectors: DetectorRules = DetectorRules()
    logs: LogRules = LogRules()
    routing: RoutingRules = RoutingRules()
    topology: TopologyRules = TopologyRules()
    correlation: CorrelationRules = CorrelationRules()
    monitoring: MonitoringConfig | None = None
    runtime: RuntimeRules = RuntimeRules()


@dataclass(frozen=True, slots=True)
class Locator:
    """Finds the file and line of a key path in the merged rule set (for cross-checks)."""

    owners: dict[str, YamlDocument]

    def problem(self, path: KeyPath, message: str) -> RuleProblem:
        doc = self.owners.get(str(path[0])) if path else None
        if doc is None:
            return RuleProblem("(rules)", 1, ".".join(map(str, path)), message)
        return doc.problem(path, message)


CrossCheck = Callable[[RuleSet, Locator], list[RuleProblem]]
CROSS_CHECKS: list[CrossCheck] = [check_routing, check_monitoring]
WARNINGS: list[CrossCheck] = [warn_unrouted]


def parse(text: str, source: str = "<rules>") -> RuleSet:
    """Parse one rule document (YAML text). Raises ``RuleError`` listing every problem."""
    return parse_documents([(text, source)])


def parse_documents(documents: Iterable[tuple[str, str]]) -> RuleSet:
    """Parse and merge ``(text, source)`` documents into one ``RuleSet``."""
    return parse_with_warnings(documents)[0]


def parse_with_warnings(
    documents: Iterable[tuple[str, str]],
) -> tuple[RuleSet, list[RuleProblem]]:
    """``parse_documents``, plus the warnings (``WARNINGS``): rules that load but cannot work
    as meant, in the same ``file:line: key: warning: ...`` form; ``vigil check`` prints them."""
    problems: list[RuleProblem] = []
    merged: dict[str, Any] = {}
    owners: dict[str, YamlDocument] = {}
    for text, source in documents:
        doc = load_yaml(text, source)
        problems.extend(doc.problems)
        problems.extend(_validate_document(doc))
        if not isinstance(doc.data, dict):
            continue
        for section, value in doc.data.items():
            if section in owners:
                first = owners[section]
                problems.append(
                    doc.problem(
                        (section,),
                        f"section already defined in {first.source}:{first.line_of((section,))}",
                    )
                )
                continue
            owners[section], merged[section] = doc, value
    if problems:
        raise RuleError(problems)
    ruleset = RuleSet.model_validate(merged)
    locator = Locator(owners)
    for check in CROSS_CHECKS:
        problems.extend(check(ruleset, locator))
    if problems:
        raise RuleError(problems)
    warnings = [w for check in WARNINGS for w in check(ruleset, locator)]
    return ruleset, sorted(warnings, key=lambda p: (p.source, p.line, p.key))


def _validate_document(doc: YamlDocument) -> list[RuleProblem]:
    if doc.data is None:
        return []
    if not isinstance(doc.data, dict):
        return [doc.problem((), f"must be a mapping of sections (got {type(doc.data).__name__})")]
    try:
        RuleSet.model_validate(doc.data)
    except ValidationError as exc:
        return [_problem_of(doc, err) for err in exc.errors()]
    return []


def _problem_of(doc: YamlDocument, err: Any) -> RuleProblem:
    path: KeyPath = tuple(p for p in err["loc"] if isinstance(p, str | int))
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        message = "unknown key"
    elif err["type"] == "missing":
        message = "required key is missing"
    elif "input" in err and not message.endswith(")"):
        message = f"{message} (got {err['input']!r})"
    return doc.problem(_strip_union_tags(path), message)


def _strip_union_tags(path: KeyPath) -> KeyPath:
    # pydantic puts the name of the tried union member into loc (e.g. "function-after[...]")
    return tuple(
        p for p in path if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))
    )
