"""Event times on the wire: Unix epoch seconds (int or float) or RFC 3339 strings.

Parsing is done by hand (a strict regular expression and civil-calendar arithmetic) rather than
with ``datetime.fromisoformat``, which accepts ISO 8601 forms that are not RFC 3339 (dates
without a time, times without an offset) and rejects leap seconds.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Final

from engine.ingest.errors import FieldError
from engine.ingest.values import describe

MAX_EPOCH_S: Final = 1e11
"""Epoch seconds at or above this (year 5138) are taken for milliseconds and rejected."""

_RFC3339: Final = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(\.\d+)?(?:[Zz]|([+-])(\d\d):(\d\d))",
    re.ASCII,
)
_DAYS_IN_MONTH: Final = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def _is_valid_date(year: int, month: int, day: int) -> bool:
    if not 1 <= month <= 12 or not 1 <= day <= _DAYS_IN_MONTH[month]:
        return False
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return not (month == 2 and day == 29 and not leap)


def parse_rfc3339(text: str) -> float | None:
    """Epoch seconds of an RFC 3339 timestamp, or ``None`` if ``text`` is not one.

    A leap second (``:60``) counts as the first second of the next minute.

    >>> parse_rfc3339("2025-11-26T00:00:00Z")
    1764115200.0
    >>> parse_rfc3339("2025-11-26T01:30:00.25+01:30")
    1764115200.25
    >>> parse_rfc3339("2025-11-26") is None
    True
    """
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.group(1, 2, 3, 4, 5, 6))
    if not _is_valid_date(year, month, day) or hour > 23 or minute > 59 or second > 60:
        return None
    seconds = ((_days_from_civil(year, month, day) * 24 + hour) * 60 + minute) * 60 + second
    sign, offset_h, offset_m = match.group(8, 9, 10)
    if sign is not None:
        if int(offset_h) > 23 or int(offset_m) > 59:
            return None
        offset_s = int(offset_h) * 3600 + int(offset_m) * 60
        seconds -= offset_s if sign == "+" else -offset_s
    fraction = match.group(7)
    return seconds + float(fraction) if fraction else float(seconds)


def to_epoch_s(key: str, value: object) -> float:
    """Event time of ``value`` (epoch seconds or RFC 3339) in epoch seconds, checked.

    Raises ``FieldError`` naming ``key`` if the value is neither, or outside [0, 1e11).
    """
    if isinstance(value, float):
        seconds = value
    elif isinstance(value, int) and not isinstance(value, bool):
        seconds = float(value) if abs(value) < MAX_EPOCH_S else math.inf
    elif isinstance(value, str):
        parsed = parse_rfc3339(value)
        if parsed is None:
            raise FieldError(f"{key}: not RFC 3339 or epoch seconds (got {describe(value)})")
        seconds = parsed
    elif isinstance(value, datetime) and value.tzinfo is not None:  # decode_object from YAML
        seconds = value.timestamp()
    else:
        raise FieldError(f"{key}: not RFC 3339 or epoch seconds (got {describe(value)})")
    if not 0.0 <= seconds < MAX_EPOCH_S:  # also false for NaN
        hint = "; milliseconds?" if seconds >= MAX_EPOCH_S else ""
        raise FieldError(
            f"{key}: epoch seconds out of range [0, 1e11) (got {describe(value)}{hint})"
        )
    return seconds


def read_ts(obj: dict[str, object], default: float | None) -> float:
    """The record's ``ts``; missing or null means ``default`` (the Kafka record time)."""
    value = obj.get("ts")
    if value is None:
        if default is None:
            raise FieldError("ts: missing")
        return default
    return to_epoch_s("ts", value)


def read_optional_time(obj: dict[str, object], key: str) -> float | None:
    """An optional RFC 3339 or epoch time; Go's zero time (Alertmanager's "unset") is None."""
    value = obj.get(key)
    if value is None or (type(value) is str and value.startswith("0001-01-01")):
        return None
    return to_epoch_s(key, value)
