"""``vigil check``: validate rule files, worker configs and the Vigil files inside Kubernetes
ConfigMaps, without starting anything.

A YAML document is a **worker config** when its top-level keys are worker settings
(``connectors.kafka.config.WorkerConfig``) and it names no rule section other than
``runtime`` (which belongs in a rules file: that mistake gets its own message); otherwise it is
a **rule file**. Rule files given on the command line merge into one rule set, as a worker's
``rules_path`` does; each ConfigMap's rule files are one rule set of their own. Problems read
``file:line: key: message`` (for a ConfigMap entry, the line in the manifest); warnings too,
with ``warning:`` before the message, and they do not fail the check.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import TypeAdapter, ValidationError

from connectors.kafka.config import Security, Topics, WorkerConfig
from connectors.rulefiles import RULE_SUFFIXES, rule_files
from engine.rules import RuleError, RuleProblem, RuleSet, parse_with_warnings
from engine.rules.yamltext import YamlDocument, load_yaml

RULE_SECTIONS: Final = frozenset(RuleSet.model_fields)
WORKER_KEYS: Final = frozenset(f.name for f in dataclasses.fields(WorkerConfig))
_SECTION_KEYS: Final = {
    "topics": frozenset(f.name for f in dataclasses.fields(Topics)),
    "security": frozenset(f.name for f in dataclasses.fields(Security)) | {"sasl_password_env"},
}
RUNTIME_IN_WORKER: Final = (
    "runtime settings belong in a rules file (a file under rules_path), not in the worker config"
)


@dataclass(frozen=True, slots=True)
class Unit:
    """One YAML document to check: its text, where it came from, and the line it starts after
    (0 for a file; the ConfigMap key's line for an embedded file)."""

    text: str
    source: str
    offset: int = 0
    group: str = ""
    """Rule files of the same group form one rule set."""


@dataclass(slots=True)
class CheckReport:
    rule_files: int = 0
    worker_configs: int = 0
    skipped: list[str] = field(default_factory=list)
    warnings: list[RuleProblem] = field(default_factory=list)


def check_paths(paths: list[Path]) -> CheckReport:
    """Check every file named by ``paths`` (folders: their ``*.yaml``/``*.yml``). Raises one
    ``RuleError`` listing every problem; returns the counts and the warnings."""
    report, problems = CheckReport(), []
    groups: dict[str, list[Unit]] = {}
    for path in rule_files(paths):
        units = read_units(path)
        if not units:
            report.skipped.append(str(path))
        for unit in units:
            doc = load_yaml(unit.text, unit.source)
            if is_worker_config(doc.data):
                report.worker_configs += 1
                problems += [_moved(p, unit) for p in worker_config_problems(doc)]
            else:
                groups.setdefault(unit.group, []).append(unit)
    for units in groups.values():
        report.rule_files += len(units)
        try:
            _, warnings = parse_with_warnings((u.text, u.source) for u in units)
        except RuleError as exc:
            problems += [_moved(p, _unit_of(p, units)) for p in exc.problems]
            continue
        report.warnings += [_moved(w, _unit_of(w, units)) for w in warnings]
    if problems:
        raise RuleError(problems)
    return report


def read_units(path: Path) -> list[Unit]:
    """The documents of ``path``: the file itself, or the Vigil files (``*.yaml``/``*.yml``
    keys) in the ConfigMaps of a Kubernetes manifest (none for other manifests)."""
    text = path.read_text(encoding="utf-8")
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        return [Unit(text, str(path))]  # load_yaml reports the syntax error with its line
    manifests = [n for n in nodes if _top_keys(n) >= {"apiVersion", "kind"}]
    if not manifests:
        return [Unit(text, str(path))]
    units: list[Unit] = []
    for node in manifests:
        units += _configmap_units(node, str(path))
    return units


def _configmap_units(node: yaml.Node, path: str) -> list[Unit]:
    top = _mapping(node)
    if _scalar(top.get("kind")) != "ConfigMap":
        return []
    name = _scalar(_mapping(top.get("metadata")).get("name")) or "?"
    units = []
    for key, value in _mapping(top.get("data")).items():
        if not key.endswith(RULE_SUFFIXES) or not isinstance(value, yaml.ScalarNode):
            continue
        block = value.style in ("|", ">")  # content starts on the line after the key
        offset = value.start_mark.line + (1 if block else 0)
        units.append(Unit(value.value, f"{path}#{name}/{key}", offset, f"{path}#{name}"))
    return units


def is_worker_config(data: Any) -> bool:
    """A mapping with worker settings and no rule section but ``runtime``."""
    if not isinstance(data, dict):
        return False
    keys = set(data)
    return bool(keys & WORKER_KEYS) and not (keys & RULE_SECTIONS) - {"runtime"}


def worker_config_problems(doc: YamlDocument) -> list[RuleProblem]:
    """Everything wrong with a worker config: unknown keys (and ``runtime``), types, values."""
    data: dict[str, Any] = doc.data
    problems = []
    for key in sorted(set(data) - WORKER_KEYS):
        message = RUNTIME_IN_WORKER if key == "runtime" else "unknown key"
        problems.append(doc.problem((key,), message))
    body = {k: v for k, v in data.items() if k in WORKER_KEYS}
    for section, known in _SECTION_KEYS.items():
        value = body.get(section)
        if isinstance(value, dict):
            extra = sorted(set(value) - known)
            problems += [doc.problem((section, k), "unknown key") for k in extra]
            body[section] = {k: v for k, v in value.items() if k in known - {"sasl_password_env"}}
    try:
        TypeAdapter(WorkerConfig).validate_python(body)
    except ValidationError as exc:
        problems += [_worker_problem(doc, err) for err in exc.errors()]
    return problems


def _worker_problem(doc: YamlDocument, err: Any) -> RuleProblem:
    path = tuple(p for p in err["loc"] if isinstance(p, str | int))
    message = str(err["msg"]).removeprefix("Value error, ")
    first = message.split(" ", 1)[0]
    if not path and first in WORKER_KEYS:  # __post_init__: "checkpoint_interval_s must be > 0"
        path, message = (first,), message.split(" ", 1)[1]
    elif "input" in err and path:
        message = f"{message} (got {err['input']!r})"
    return doc.problem(path, message)


def _unit_of(problem: RuleProblem, units: list[Unit]) -> Unit:
    return next((u for u in units if u.source == problem.source), Unit("", problem.source))


def _moved(problem: RuleProblem, unit: Unit) -> RuleProblem:
    """``problem`` at its line in the file on disk (an embedded file's source is
    ``file#configmap/key``)."""
    if not unit.offset and "#" not in unit.source:
        return problem
    source = unit.source.split("#", 1)[0]
    return RuleProblem(source, problem.line + unit.offset, problem.key, problem.message)


def _top_keys(node: yaml.Node | None) -> set[str]:
    return set(_mapping(node))


def _mapping(node: yaml.Node | None) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): v for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def _scalar(node: yaml.Node | None) -> str | None:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else None
