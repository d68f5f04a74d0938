"""Rule documents (YAML text) in, typed frozen rule objects out; no file access here.

``parse(text, source)`` / ``parse_documents`` validate every section and every cross-reference,
and raise one ``RuleError`` whose lines read ``file:line: key.path: message``.
"""

from engine.rules.errors import RuleError, RuleProblem
from engine.rules.schema import RuleSet, parse, parse_documents, parse_with_warnings

__all__ = ["RuleError", "RuleProblem", "RuleSet", "parse", "parse_documents", "parse_with_warnings"]
