"""Label matchers as Alertmanager writes them: ``name=value``, ``!=``, ``=~`` and ``!~``.

Regular expressions are fully anchored (``service=~pay.*`` matches ``payments``, not
``old-payments``). A label that is absent matches as the empty string, so ``env!=prod`` holds
for a record without an ``env`` label.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

_MATCHER: Final = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")


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
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


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
        try:
            _compiled(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
    return Matcher(name, op, value)


def matchers_of(exact: Mapping[str, str], written: Iterable[str]) -> tuple[Matcher, ...]:
    """The ``match:`` mapping (exact equality) and the ``matchers:`` list, as one tuple."""
    return tuple(Matcher(k, MatchOp.EQUAL, v) for k, v in sorted(exact.items())) + tuple(
        parse_matcher(m) for m in written
    )


def match_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    """True when every matcher holds (an empty list matches everything)."""
    return all(m.matches(labels) for m in matchers)
