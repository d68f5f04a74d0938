"""Which masks may run one whitespace-separated token at a time (``is_token_local``).

Masking a line token by token (and memoising each token) gives the same tokens as masking the
whole line and splitting it when the regex can never match or look at whitespace:

- every literal, class and category in it (lookarounds and branches included) excludes every
  whitespace character ``str.split`` splits on, and it has no ``.`` (which matches a space);
- its only anchors are ``\\b`` and ``\\B`` (a space is a non-word character, just as the edge of
  a string is; ``^``, ``$``, ``\\A`` and ``\\Z`` differ at a token's edge);
- it cannot match the empty string (an empty match between two spaces makes a token);
- its replacement holds no whitespace and no backslash escape (so it cannot add a space).

A lookbehind at a token's start then fails or succeeds alike on a space and on the string's
edge, so its verdict is the same both ways. Anything the check does not recognise counts as not
token-local (the mask then runs on the whole line). The check reads the parse tree of Python's
own regex compiler (``re._parser``, stable since Python 3.11); if that module is missing, no mask
counts as token-local.
"""

from __future__ import annotations

import re
from functools import cache
from types import ModuleType
from typing import Any, Final

_parser: ModuleType | None
try:  # the regex parser behind re.compile (3.11+)
    from re import _parser  # type: ignore[attr-defined, no-redef]  # private, but stable
except ImportError:  # pragma: no cover - a Python without re._parser: whole-line masking
    _parser = None

WHITESPACE: Final = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003"
                     "\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
"""Every character ``str.split()`` splits on (``str.isspace``; a unit test checks the list)."""
_LAST_ARG_IS_PATTERN: Final = frozenset(("SUBPATTERN", "MAX_REPEAT", "MIN_REPEAT",
                                         "POSSESSIVE_REPEAT", "ASSERT", "ASSERT_NOT"))
_CATEGORY_REGEX: Final = {"CATEGORY_DIGIT": r"\d", "CATEGORY_NOT_DIGIT": r"\D",
                          "CATEGORY_SPACE": r"\s", "CATEGORY_NOT_SPACE": r"\S",
                          "CATEGORY_WORD": r"\w", "CATEGORY_NOT_WORD": r"\W"}


def is_token_local(regex: re.Pattern[str], replacement: str) -> bool:
    """Whether ``regex.sub(replacement, ...)`` may run per token (see the module docstring).

    >>> is_token_local(re.compile(r"(?<![\\w.])\\d+"), "<*>")
    True
    >>> [is_token_local(re.compile(rx), "<*>") for rx in (r"\\s\\d+", r"^\\d+", r"x.y", r"\\d*")]
    [False, False, False, False]
    """
    if _parser is None or any(c.isspace() or c == "\\" for c in replacement):
        return False
    try:
        tree = _parser.parse(regex.pattern, regex.flags)
    except re.error:  # pragma: no cover - it compiled once already
        return False
    ascii_only = bool(regex.flags & re.ASCII)
    return tree.getwidth()[0] > 0 and _local(list(tree), ascii_only)


def _local(items: list[tuple[Any, Any]], ascii_only: bool) -> bool:
    return all(_item_local(str(op), arg, ascii_only) for op, arg in items)


def _item_local(op: str, arg: Any, ascii_only: bool) -> bool:
    if op == "LITERAL":
        return not chr(arg).isspace()
    if op == "IN":
        return not any(_class_matches(arg, ch, ascii_only) for ch in WHITESPACE)
    if op == "AT":
        return str(arg) in ("AT_BOUNDARY", "AT_NON_BOUNDARY")
    if op in _LAST_ARG_IS_PATTERN:
        return _local(list(arg[-1]), ascii_only)
    if op == "ATOMIC_GROUP":
        return _local(list(arg), ascii_only)
    if op == "BRANCH":
        return all(_local(list(branch), ascii_only) for branch in arg[1])
    if op == "GROUPREF":  # repeats a group's text, which was checked where the group is
        return True
    if op == "GROUPREF_EXISTS":
        return all(_local(list(p), ascii_only) for p in arg[1:] if p is not None)
    return False  # ANY, NOT_LITERAL, other anchors, anything unknown


def _class_matches(items: list[tuple[Any, Any]], char: str, ascii_only: bool) -> bool:
    """Whether the character class ``items`` (a parsed ``[...]``) matches ``char``."""
    code, negate, hit = ord(char), False, False
    for op, arg in items:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            hit = hit or arg == code
        elif name == "RANGE":
            hit = hit or arg[0] <= code <= arg[1]
        elif name == "CATEGORY":
            hit = hit or _category_matches(str(arg), char, ascii_only)
        else:
            return True  # unknown: assume the worst
    return hit != negate


@cache
def _category_matches(category: str, char: str, ascii_only: bool) -> bool:
    regex = _CATEGORY_REGEX.get(category)
    if regex is None:
        return True
    return re.fullmatch(regex, char, re.ASCII if ascii_only else 0) is not None
