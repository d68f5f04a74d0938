"""Variable masking for log template mining: regexes that turn values into ``<*>``.

Masking runs before tokenising, so a value spread over several characters classes (an IP with
its port, a UUID, a path) becomes one wildcard token. The default masks cover UUIDs, IPv4
addresses with ports, hex numbers, paths, durations and any token that contains a digit (ids,
counters, sizes, timestamps). Rules may replace or extend the list (``logs.masking``).
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
    MaskPattern("uuid", r"\b[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b"),
    MaskPattern("ip_port", r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?![\w.])"),
    MaskPattern("hex", r"\b0[xX][0-9a-fA-F]+\b"),
    MaskPattern("path", r"(?<![\w<])(?:/[\w.\-]+){2,}/?"),
    MaskPattern("duration", r"(?<![\w.])\d+(?:\.\d+)?(?:ns|us|ms|s|m|h|d)(?![\w.])"),
    MaskPattern("number", r"(?<![^\s=])(?=[^\w\s]?\d|[^\s=]*?\d[^\s=]*?\d)[^\s=]+"),
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
