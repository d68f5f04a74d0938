"""Token-level comparison of masked messages and templates (used by ``logtemplate``).

A masked token is a *value* when it holds ``<*>``. Two values agree when their letters do
(``(<*>)`` and ``<*>,`` are both plain values, ``size=<*>`` and ``count=<*>`` are not the same).
A template remembers in a bit mask (``learned``) which positions became ``<*>`` because messages
held different constants there; those match anything.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import compress
from typing import Final

from engine.ingest.masking import WILDCARD

_NOT_LETTER: Final = re.compile(r"[^A-Za-z]+")


def similarity_of(template: list[str], learned: int, tokens: list[str],
                  constants: int) -> tuple[float, int]:
    """(share of the relevant positions that agree, exact token matches).

    Relevant positions are the template's constants (``constants`` of them) and the places
    where a masked value meets a constant (either way round); a learned ``<*>`` matches anything
    and two masked values agree when their letters do, which is what keeps parameter-heavy
    messages together.
    """
    differ = list(compress(range(len(tokens)), map(str.__ne__, template, tokens)))
    same = constants
    relevant = 0
    for index in differ:
        have = template[index]
        if WILDCARD not in have:
            same -= 1
            relevant += 1
        elif not learned >> index & 1 and not shapes_agree(have, tokens[index]):
            relevant += 1
    relevant += same
    exact = len(tokens) - len(differ)
    if relevant == 0:
        return (1.0, exact)
    return (same / relevant, exact)


def constants_of(tokens: list[str]) -> int:
    """How many tokens hold no ``<*>``."""
    return [WILDCARD in token for token in tokens].count(False)


def shapes_agree(have: str, got: str) -> bool:
    """Two masked tokens agree when their letters do (``(<*>)`` and ``<*>,`` are both values,
    ``size=<*>`` and ``count=<*>`` are different keys)."""
    return WILDCARD in have and WILDCARD in got and _letters(have) == _letters(got)


def same_key(have: str, got: str) -> int:
    """Length of the shared ``key=`` of ``user=root`` and ``user=guest`` (0 if none): values
    of one key are variables, however few."""
    cut = max(have.rfind("="), have.rfind(":")) + 1
    return cut if 1 < cut < len(have) and got[:cut] == have[:cut] and len(got) > cut else 0


@lru_cache(maxsize=8192)
def _letters(token: str) -> str:
    return _NOT_LETTER.sub("", token.replace(WILDCARD, ""))


def differing_positions(template: list[str], learned: int, tokens: list[str]) -> list[int]:
    """Positions where the message and the template disagree on a constant."""
    return [index for index in compress(range(len(tokens)), map(str.__ne__, template, tokens))
            if not learned >> index & 1 and not shapes_agree(template[index], tokens[index])]


def agrees_outside(template: list[str], learned: int, tokens: list[str],
                    positions: list[int]) -> bool:
    skip = set(positions)
    for index in compress(range(len(tokens)), map(str.__ne__, template, tokens)):
        if index in skip or learned >> index & 1:
            continue
        if not shapes_agree(template[index], tokens[index]):
            return False
    return True


def would_generalise(template: list[str], tokens: list[str]) -> bool:
    """Whether ``generalise`` would change a token: a position differs and the template does
    not hold a plain ``<*>`` there already (``generalise`` keeps those as they are)."""
    return any(have != WILDCARD for have in compress(template, map(str.__ne__, template, tokens)))


def generalise(template: list[str], learned: int, tokens: list[str]) -> tuple[list[str], int]:
    merged = []
    for index, (have, got) in enumerate(zip(template, tokens, strict=True)):
        if have == got:
            merged.append(have)
            continue
        cut = same_key(have, got)
        merged.append(have[:cut] + WILDCARD if cut and WILDCARD not in have[:cut] else WILDCARD)
        if not shapes_agree(have, got):
            learned |= 1 << index
    return merged, learned


def skeleton_of(tokens: list[str]) -> str:
    """The constant tokens of a masked message, values dropped (``12 bytes (<*> <*>) sent`` and
    ``<*> bytes sent`` share ``bytes sent``)."""
    return " ".join([t for t in tokens if WILDCARD not in t or _letters(t)])
