"""Reads rule files (YAML) from disk and hands their text to ``engine.rules``."""

from __future__ import annotations

import logging
from pathlib import Path

from engine.rules import RuleSet, parse_with_warnings

log = logging.getLogger("vigil.rules")

RULE_SUFFIXES = (".yaml", ".yml")


def default_rules_dir() -> Path | None:
    """``./rules`` if present, else the ``rules/`` folder of the source checkout, else None."""
    for candidate in (Path.cwd() / "rules", Path(__file__).resolve().parent.parent / "rules"):
        if candidate.is_dir():
            return candidate
    return None


def rule_files(paths: list[Path]) -> list[Path]:
    """Rule files named by ``paths``: files as given, folders expanded (sorted, non-recursive)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in RULE_SUFFIXES)
        else:
            files.append(path)
    return files


def load_rules(paths: list[Path] | None = None) -> RuleSet:
    """Load and validate rule files; ``None`` means the default rules folder (or defaults).
    Warnings (rules that load but cannot work as meant) are logged."""
    if paths is None:
        found = default_rules_dir()
        paths = [found] if found else []
    documents = [(f.read_text(encoding="utf-8"), str(f)) for f in rule_files(paths)]
    rules, warnings = parse_with_warnings(documents)
    for warning in warnings:
        log.warning("%s", warning)
    return rules
