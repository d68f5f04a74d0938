"""Variable masking for log template mining: regexes that turn values into ``<*>``.

Masking runs before tokenising, so a value written with spaces (a date) becomes one wildcard.
The default masks: dates, paths, any token that starts with a digit or holds two or more digits
(numbers, hex, IPs with ports, UUIDs, durations, sizes, ids such as ``blk_-1608`` or
``node-12``), and bare numbers after a delimiter (``PendingReds:1``). A single trailing digit
(``ssh2``, ``eth0``, ``SOCKS5``) is kept: it is far more often part of a name than a value.
Rules may replace the list (``logs.masking``).

``Masker`` is configuration only. Its results are memoised in a ``MaskMemo``, an explicit,
bounded cache of a pure function that the caller owns (the miner keeps one in its state, not
serialised): outputs never depend on what it holds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from engine.ingest.masklocality import is_digit_blind, is_token_local

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
_ZEROS: Final = str.maketrans("123456789", "000000000")
_ZERO_BYTES: Final = bytes.maketrans(b"123456789", b"000000000")
Chain = tuple[tuple[re.Pattern[str], str], ...]


@dataclass(frozen=True, slots=True)
class Masker:
    """Applies an ordered list of masks to a message.

    ``tokens`` masks one whitespace-separated token at a time wherever that gives the same
    result as masking the whole line (``engine.ingest.masklocality``): the masks after the last
    one that may cross or look at a space run per token, the ones before it on the whole line.
    With the default masks only ``datetime`` crosses a space, and it runs only when the line
    has a weekday token.

    Examples
    --------
    >>> Masker().mask("Receiving block blk_-1608 src: /10.250.19.102:54106 in 12ms")
    'Receiving block <*> src: <*> in <*>'
    >>> Masker().tokens("Receiving block blk_-1608 src: /10.250.19.102:54106 in 12ms")
    ['Receiving', 'block', '<*>', 'src:', '<*>', 'in', '<*>']
    >>> Masker((MaskPattern("port", r":\\d+\\b"),)).token_chain_length
    1
    """

    patterns: Sequence[MaskPattern] = DEFAULT_MASKS
    _compiled: Chain = field(init=False, repr=False, compare=False)
    _line_chain: Chain = field(init=False, repr=False, compare=False)
    _token_chain: Chain = field(init=False, repr=False, compare=False)
    _default: bool = field(init=False, repr=False, compare=False)
    _blind: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        compiled = []
        for pattern in self.patterns:
            try:
                compiled.append((re.compile(pattern.regex), pattern.replacement))
            except re.error as exc:
                raise ValueError(f"mask {pattern.name!r}: invalid regex: {exc}") from exc
        default = tuple(self.patterns) == DEFAULT_MASKS
        cut = 1 if default else max((i + 1 for i, (rx, rep) in enumerate(compiled)
                                     if not is_token_local(rx, rep)), default=0)
        object.__setattr__(self, "_compiled", tuple(compiled))
        object.__setattr__(self, "_line_chain", tuple(compiled[:cut]))
        object.__setattr__(self, "_token_chain", tuple(compiled[cut:]))
        object.__setattr__(self, "_default", default)
        object.__setattr__(self, "_blind", default or all(is_digit_blind(rx) for rx, _ in compiled))

    @property
    def token_chain_length(self) -> int:
        """How many of the masks (the last ones) run token by token."""
        return len(self._token_chain)

    def mask(self, message: str) -> str:
        """``message`` with every mask match replaced, in pattern order."""
        for regex, replacement in self._compiled:
            message = regex.sub(replacement, message)
        return message

    def key(self, message: str, memo: MaskMemo | None = None) -> str:
        """``" ".join(self.tokens(message))``; ``memo`` (of this masker) remembers results."""
        if memo is not None:
            return memo.key(message)
        return " ".join(self.tokens(message))

    def tokens(self, message: str, memo: MaskMemo | None = None) -> list[str]:
        """The masked message split on whitespace (same as ``mask(message).split()``)."""
        words = message.split()
        if self._line_chain and not (self._default and _WEEKDAYS.isdisjoint(words)):
            for regex, replacement in self._line_chain:
                message = regex.sub(replacement, message)
            words = message.split()
        if not self._token_chain:
            return words
        masked = list(map(self.mask_token if memo is None else memo.token, words))
        return masked if self._default else [t for t in masked if t]

    def mask_token(self, token: str) -> str:
        """One token through the token-wise masks (may come back empty for custom masks)."""
        for regex, replacement in self._token_chain:
            token = regex.sub(replacement, token)
        return token


class MaskMemo:
    """Bounded memo of one ``Masker``'s results: a cache of a pure function, so nothing a
    caller sees depends on it; it is never serialised.

    Keeps at most ``max_tokens`` masked tokens and ``max_lines`` masked messages (each part
    is cleared when full). When every mask is digit-blind (the default ones are; see
    ``engine.ingest.masklocality``), a message and a token are first looked up by their digit
    shape (every digit as ``0``): two texts of one shape then mask alike unless a digit
    survives masking.

    >>> memo = MaskMemo(Masker())
    >>> memo.key("took 12ms"), memo.key("took 97ms"), len(memo.shapes)
    ('took <*>', 'took <*>', 1)
    """

    __slots__ = ("lines", "masked_tokens", "masker", "max_lines", "shapes", "token")

    def __init__(self, masker: Masker, *, max_tokens: int = 100_000,
                 max_lines: int = 20_000) -> None:
        self.masker, self.max_lines = masker, max_lines
        self.masked_tokens = _TokenMemo(masker, max_tokens)
        self.token = self.masked_tokens.__getitem__
        """``masker.mask_token``, remembered."""
        self.lines: dict[str, str] = {}
        self.shapes: dict[bytes, str] = {}

    def key(self, message: str) -> str:
        """``masker.key(message)``, remembered."""
        lines = self.lines
        key = lines.get(message)
        if key is not None:
            return key
        if len(lines) >= self.max_lines:
            lines.clear()
            self.shapes.clear()
        if self.masker._blind:
            raw = message.encode("utf-8", "surrogatepass")
            shape = raw.translate(_ZERO_BYTES)  # bytes: ~10x faster than str.translate
            if shape != raw:
                key = self.shapes.get(shape)
                if key is None:
                    text = shape.decode("utf-8", "surrogatepass")
                    key = self.shapes[shape] = " ".join(self.masker.tokens(text, self))
                if "0" in key:
                    key = " ".join(self.masker.tokens(message, self))
                lines[message] = key
                return key
        key = lines[message] = " ".join(self.masker.tokens(message, self))
        return key


class _TokenMemo(dict[str, str]):
    """token -> ``masker.mask_token(token)``; fills itself."""

    __slots__ = ("masker", "max_tokens")

    def __init__(self, masker: Masker, max_tokens: int) -> None:
        super().__init__()
        self.masker, self.max_tokens = masker, max_tokens

    def __missing__(self, token: str) -> str:
        masker = self.masker
        if masker._default and _MAY_HOLD_VALUE(token) is None:
            masked = token
        elif masker._blind and (shape := token.translate(_ZEROS)) != token:
            masked = self[shape]  # same digit shape, same result unless a digit survives
            if "0" in masked:
                masked = masker.mask_token(token)
        else:
            masked = masker.mask_token(token)
        if len(self) >= self.max_tokens:
            self.clear()
        self[token] = masked
        return masked
