"""Label matchers as Alertmanager writes them: ``name=value``, ``!=``, ``=~`` and ``!~``.

Regular expressions are fully anchored (``service=~pay.*`` matches ``payments``, not
``old-payments``). A label that is absent matches as the empty string, so ``env!=prod`` holds
for a record without an ``env`` label.

Regular expressions run on RE2 (``google-re2``), as Alertmanager's do: matching takes time
linear in the label's length whatever the pattern, so a silence or rule like
``service=~(a+)+$`` cannot stall delivery. RE2 has no look-around and no back-references;
such patterns are refused when the matcher is parsed, as are patterns over
``MAX_PATTERN_CHARS`` characters or whose compiled program needs more than ``RE2_MAX_MEM``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Protocol

import re2  # google-re2 ships no type hints (mypy: ignore_missing_imports)

_MATCHER: Final = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")
MAX_PATTERN_CHARS: Final = 1000
RE2_MAX_MEM: Final = 1 << 20
"""Bytes RE2 may use for one compiled pattern (its default is 8 MiB)."""


class _Pattern(Protocol):
    def fullmatch(self, text: str) -> object | None: ...


class MatchOp(enum.Enum):
    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


@dataclass(frozen=True, slots=True)
class Matcher:
    """One condition on one label.

    >>> m = parse_matcher('service=~"pay.*"')
    >>> m.matches({"service": "payments"}), m.matches({"service": "old-payments"})
    (True, False)
    >>> parse_matcher("env!=prod").matches({})
    True
    """

    name: str
    op: MatchOp
    value: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op is MatchOp.EQUAL:
            return actual == self.value
        if self.op is MatchOp.NOT_EQUAL:
            return actual != self.value
        hit = _compiled(self.value).fullmatch(actual) is not None
        return hit if self.op is MatchOp.REGEX else not hit

    def __str__(self) -> str:
        return f"{self.name}{self.op.value}{self.value}"


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> _Pattern:
    """``pattern`` compiled by RE2; ``ValueError`` with a reason if it is refused.

    >>> _compiled("(a+)+$").fullmatch("a" * 10_000 + "b") is None
    True
    >>> _compiled("(?=a)a")
    Traceback (most recent call last):
    ...
    ValueError: invalid regular expression '(?=a)a': not supported by RE2 (no look-around or \
back-references): invalid perl operator: (?=
    """
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ValueError(
            f"regular expression of {len(pattern)} characters: the limit is {MAX_PATTERN_CHARS}"
        )
    try:
        re.compile(pattern)  # Python's messages say where a pattern is broken
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
    options = re2.Options()
    options.log_errors, options.max_mem = False, RE2_MAX_MEM
    try:
        compiled: _Pattern = re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode() if isinstance(exc.args[0], bytes) else str(exc)
        raise ValueError(
            f"invalid regular expression {pattern!r}: not supported by RE2 "
            f"(no look-around or back-references): {reason}"
        ) from None
    return compiled


@lru_cache(maxsize=4096)
def parse_matcher(text: str) -> Matcher:
    """``'name=value'`` (value optionally double-quoted) -> ``Matcher``; ``ValueError`` if bad."""
    found = _MATCHER.match(text)
    if found is None:
        raise ValueError(
            f"expected a matcher like name=value, name!=value, name=~regex (got {text!r})"
        )
    name, op, value = found.group(1), MatchOp(found.group(2)), found.group(3)
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if op in (MatchOp.REGEX, MatchOp.NOT_REGEX):
        _compiled(value)
    return Matcher(name, op, value)


def matchers_of(exact: Mapping[str, str], written: Iterable[str]) -> tuple[Matcher, ...]:
    """The ``match:`` mapping (exact equality) and the ``matchers:`` list, as one tuple."""
    return tuple(Matcher(k, MatchOp.EQUAL, v) for k, v in sorted(exact.items())) + tuple(
        parse_matcher(m) for m in written
    )


def match_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    """True when every matcher holds (an empty list matches everything)."""
    return all(m.matches(labels) for m in matchers)
