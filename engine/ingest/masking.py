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


@dataclass(frozen=True, slots=True)
class Masker:
    """Applies an ordered list of masks to a message.

    Examples
    --------
    >>> Masker().mask("Receiving block blk_-1608 src: /10.250.19.102:54106 in 12ms")
    'Receiving block <*> src: <*> in <*>'
    """

    patterns: Sequence[MaskPattern] = DEFAULT_MASKS
    _compiled: tuple[tuple[re.Pattern[str], str], ...] = field(init=False, repr=False,
                                                               compare=False)

    def __post_init__(self) -> None:
        compiled = []
        for pattern in self.patterns:
            try:
                compiled.append((re.compile(pattern.regex), pattern.replacement))
            except re.error as exc:
                raise ValueError(f"mask {pattern.name!r}: invalid regex: {exc}") from exc
        object.__setattr__(self, "_compiled", tuple(compiled))

    def mask(self, message: str) -> str:
        """``message`` with every mask match replaced, in pattern order."""
        for regex, replacement in self._compiled:
            message = regex.sub(replacement, message)
        return message
