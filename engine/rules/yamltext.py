"""YAML text to plain data plus a map from key path to line number.

PyYAML's composer gives nodes with marks; we build the data ourselves so every key path keeps
its line, duplicate keys are reported instead of silently overwritten, and only the safe YAML
types are produced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from engine.rules.errors import RuleProblem

KeyPath = tuple[str | int, ...]


def format_path(path: KeyPath) -> str:
    """``("detectors", 2, "threshold")`` -> ``detectors[2].threshold``.

    >>> format_path(("detectors", 2, "threshold"))
    'detectors[2].threshold'
    >>> format_path(())
    '(root)'
    """
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(root)"


@dataclass(slots=True)
class YamlDocument:
    """Parsed YAML: ``data`` and the 1-based line of every key path in it."""

    source: str
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    problems: list[RuleProblem] = field(default_factory=list)

    def line_of(self, path: KeyPath) -> int:
        """Line of the longest prefix of ``path`` present in the document (1 if none)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return 1

    def problem(self, path: KeyPath, message: str) -> RuleProblem:
        return RuleProblem(self.source, self.line_of(path), format_path(path), message)


def load_yaml(text: str, source: str) -> YamlDocument:
    """Parse ``text``; syntax errors and duplicate keys land in ``problems``, never raise."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        reason = getattr(exc, "problem", None) or str(exc)
        return YamlDocument(
            source, None, {}, [RuleProblem(source, line, "(root)", f"invalid YAML: {reason}")]
        )
    doc = YamlDocument(source, None)
    if node is not None:
        doc.data = _build(node, (), doc)
    return doc


def _build(node: yaml.Node, path: KeyPath, doc: YamlDocument) -> Any:
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(_scalar(key_node))
            if key in out:
                doc.problems.append(
                    RuleProblem(
                        doc.source,
                        key_node.start_mark.line + 1,
                        format_path((*path, key)),
                        "duplicate key",
                    )
                )
            doc.lines[(*path, key)] = key_node.start_mark.line + 1
            out[key] = _build(value_node, (*path, key), doc)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), doc) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        return None
    return yaml.SafeLoader(  # construct_object resolves the tag (int, float, bool, null, str)
        ""
    ).construct_object(node, deep=True)
