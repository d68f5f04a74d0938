"""What a mask regex can see: whitespace (``is_token_local``) and single digits
(``is_digit_blind``).

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

A regex is *digit-blind* when it treats every ASCII digit as it treats ``0``: no literal digit,
no class that holds some digits but not all, no backreference (``(\\d)\\1`` tells ``11`` from
``12``). Masks that all are may be memoised by digit shape (see ``engine.ingest.masking``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
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
_BLIND_OPS: Final = frozenset(("ANY", "AT", "SUBPATTERN", "MAX_REPEAT", "MIN_REPEAT",
                                "POSSESSIVE_REPEAT", "ASSERT", "ASSERT_NOT", "ATOMIC_GROUP",
                                "BRANCH"))
_ZERO, _NINE = ord("0"), ord("9")
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


def is_digit_blind(regex: re.Pattern[str]) -> bool:
    """Whether ``regex`` treats the ASCII digits ``1``-``9`` exactly as it treats ``0``.

    >>> [is_digit_blind(re.compile(rx)) for rx in (r"[0-9a-f]{8}", r"\\d+ms", r"\\b200\\b",
    ...                                              r"[1-5]xx", r"(\\d)\\1")]
    [True, True, False, False, False]
    """
    if _parser is None:
        return False
    try:
        tree = _parser.parse(regex.pattern, regex.flags)
    except re.error:  # pragma: no cover - it compiled once already
        return False
    return all(_blind(op, arg) for op, arg in _nodes(list(tree)))


def _nodes(items: list[tuple[Any, Any]]) -> Iterator[tuple[str, Any]]:
    """Every node of a parse tree (classes not opened)."""
    for op, arg in items:
        name = str(op)
        yield name, arg
        if name in _LAST_ARG_IS_PATTERN:
            yield from _nodes(list(arg[-1]))
        elif name == "ATOMIC_GROUP":
            yield from _nodes(list(arg))
        elif name == "BRANCH":
            for branch in arg[1]:
                yield from _nodes(list(branch))


def _blind(op: str, arg: Any) -> bool:
    if op in ("LITERAL", "NOT_LITERAL"):
        return not _ZERO <= arg <= _NINE
    if op == "IN":
        return all(_blind_in(str(item), value) for item, value in arg)
    return op in _BLIND_OPS


def _blind_in(item: str, value: Any) -> bool:
    if item == "LITERAL":
        return not _ZERO <= value <= _NINE
    if item == "RANGE":
        low, high = int(value[0]), int(value[1])
        return (low <= _ZERO and high >= _NINE) or high < _ZERO or low > _NINE
    return item == "NEGATE" or (item == "CATEGORY" and str(value) in _CATEGORY_REGEX)


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
