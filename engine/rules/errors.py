"""Errors raised while parsing rule documents."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RuleProblem:
    """One problem in a rule file, printed as ``file:line: key.path: message``."""

    source: str
    line: int
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.key}: {self.message}"


class RuleError(ValueError):
    """Every problem found in one or more rule documents, one per line."""

    def __init__(self, problems: list[RuleProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.source, p.line, p.key))
        super().__init__("\n".join(str(p) for p in self.problems))
