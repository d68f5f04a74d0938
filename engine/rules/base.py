"""Shared pieces of the rule schemas: the strict pydantic base model and duration values."""

from __future__ import annotations

import re
from typing import Annotated, Final

from pydantic import BaseModel, BeforeValidator, ConfigDict

_DURATION: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_UNIT_S: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


class StrictModel(BaseModel):
    """Rule models reject unknown keys and are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_duration(value: object) -> float:
    """``"90s"``, ``"5m"``, ``"1h"``, ``"7d"``, ``"2w"`` or a number of seconds -> seconds.

    >>> parse_duration("1h"), parse_duration("7d"), parse_duration(30)
    (3600.0, 604800.0, 30.0)
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like 30s, 5m, 1h, 7d (got {value!r})")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"must be >= 0 (got {value})")
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return float(match.group(1)) * _UNIT_S[match.group(2)]
    raise ValueError(f"expected a duration like 30s, 5m, 1h, 7d (got {value!r})")


DurationS = Annotated[float, BeforeValidator(parse_duration)]
"""A duration in seconds, written in rules as ``30s``, ``5m``, ``1h``, ``7d`` or a number."""
