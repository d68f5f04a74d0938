"""Variable masking for log template mining: regexes that turn values into ``<*>``.

Masking runs before tokenising, so a value written with spaces (a date) becomes one wildcard.
The default masks: dates, paths, any token that starts with a digit or holds two or more digits
(numbers, hex, IPs with ports, UUIDs, durations, sizes, ids such as ``blk_-1608`` or
``node-12``), and bare numbers after a delimiter (``PendingReds:1``). A single trailing digit
(``ssh2``, ``eth0``, ``SOCKS5``) is kept: it is far more often part of a name than a value.
Rules may replace the list (``logs.masking``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

WILDCARD: Final = "<*>"
"""The token that stands for a variable, in templates and in masked messages."""


@dataclass(frozen=True, slots=True)
class MaskPattern:
    """One named masking regex; every match is replaced by ``replacement``."""

    name: str
    regex: str
    replacement: str = WILDCARD


DEFAULT_MASKS: Final[tuple[MaskPattern, ...]] = (
    MaskPattern("datetime", r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul"
                            r"|Aug|Sep|Oct|Nov|Dec)\s+\d{1,2}\s+(?:\d{2}:\d{2}:\d{2}|<\*>)(?:\s+\w{3})?"
                            r"\s+\d{4}\b"),
    MaskPattern("path", r"(?<![\w<])(?:/[\w.\-]+){2,}/?"),
    MaskPattern("number_token", r"(?<![^\s=])(?=[^\w\s]?\d|[^\s=]*?\d[^\s=]*?\d)[^\s=]+"),
    MaskPattern("number", r"(?<![\w.<])[-+]?\d+(?![\w.])"),
)
"""The masks used when rules give none, applied in this order."""

_WEEKDAYS: Final = frozenset(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))
_MAY_HOLD_VALUE: Final = re.compile(r"[\d/]").search
"""Every default mask but ``datetime`` needs a digit or a ``/`` inside one token."""
_MAX_MEMO: Final = 100_000
_ZEROS: Final = str.maketrans("123456789", "000000000")
_MAX_LINES: Final = 20_000


@dataclass(frozen=True, slots=True)
class Masker:
    """Applies an ordered list of masks to a message.

    With the default masks, ``tokens`` masks one whitespace-separated token at a time (none of
    those masks but ``datetime`` crosses a space, and it is applied to the whole line only when
    the line has a weekday token) and memoises each token's result: a bounded cache of a pure
    function (cleared when it holds ``100,000`` tokens), so outputs never depend on it; ``key``
    memoises whole messages the same way. Custom masks run on the whole line, in order.

    Examples
    --------
    >>> Masker().mask("Receiving block blk_-1608 src: /10.250.19.102:54106 in 12ms")
    'Receiving block <*> src: <*> in <*>'
    >>> Masker().tokens("Receiving block blk_-1608 src: /10.250.19.102:54106 in 12ms")
    ['Receiving', 'block', '<*>', 'src:', '<*>', 'in', '<*>']
    """

    patterns: Sequence[MaskPattern] = DEFAULT_MASKS
    _compiled: tuple[tuple[re.Pattern[str], str], ...] = field(init=False, repr=False,
                                                               compare=False)
    _memo: _TokenMemo | None = field(init=False, repr=False, compare=False)
    _lines: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        compiled = []
        for pattern in self.patterns:
            try:
                compiled.append((re.compile(pattern.regex), pattern.replacement))
            except re.error as exc:
                raise ValueError(f"mask {pattern.name!r}: invalid regex: {exc}") from exc
        object.__setattr__(self, "_compiled", tuple(compiled))
        token_wise = tuple(self.patterns) == DEFAULT_MASKS
        object.__setattr__(self, "_memo", _TokenMemo(compiled[1:]) if token_wise else None)
        object.__setattr__(self, "_lines", {})

    def mask(self, message: str) -> str:
        """``message`` with every mask match replaced, in pattern order."""
        for regex, replacement in self._compiled:
            message = regex.sub(replacement, message)
        return message

    def key(self, message: str) -> str:
        """``" ".join(self.tokens(message))``, memoised per message (at most 20,000 kept).

        With the default masks a message is first looked up by its digit shape (every digit
        as ``0``): the masks see digits only as ``\\d``, so two messages of one shape mask alike
        unless a digit survives masking.
        """
        lines = self._lines
        key = lines.get(message)
        if key is None:
            if len(lines) >= _MAX_LINES:
                lines.clear()
            shape = message.translate(_ZEROS) if self._memo is not None else message
            if shape != message:
                key = lines.get(shape)
                if key is None:
                    key = lines[shape] = " ".join(self.tokens(shape))
                if "0" in key:
                    key = " ".join(self.tokens(message))
            else:
                key = " ".join(self.tokens(message))
            lines[message] = key
        return key

    def tokens(self, message: str) -> list[str]:
        """The masked message split on whitespace (same as ``mask(message).split()``)."""
        memo = self._memo
        if memo is None:
            return self.mask(message).split()
        tokens = message.split()
        if not _WEEKDAYS.isdisjoint(tokens):
            regex, replacement = self._compiled[0]
            tokens = regex.sub(replacement, message).split()
        if len(memo) > _MAX_MEMO:
            memo.clear()
        return list(map(memo.__getitem__, tokens))


class _TokenMemo(dict[str, str]):
    """token -> masked token under the default masks but ``datetime``; fills itself."""

    __slots__ = ("chain",)

    def __init__(self, chain: list[tuple[re.Pattern[str], str]]) -> None:
        super().__init__()
        self.chain = chain

    def __missing__(self, token: str) -> str:
        shape = token.translate(_ZEROS)
        if shape != token:
            # the masks see digits only as \d, so tokens of one digit shape mask alike unless
            # a digit survives
            masked = self[shape]
            if "0" in masked:
                masked = self._apply(token)
        elif _MAY_HOLD_VALUE(token) is None:
            masked = token
        else:
            masked = self._apply(token)
        self[token] = masked
        return masked

    def _apply(self, token: str) -> str:
        for regex, replacement in self.chain:
            token = regex.sub(replacement, token)
        return token
