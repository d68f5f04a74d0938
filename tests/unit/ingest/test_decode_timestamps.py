"""Event times: RFC 3339 strings and epoch seconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from engine.ingest.errors import FieldError
from engine.ingest.timestamps import parse_rfc3339, to_epoch_s


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-11-26T00:00:00Z", datetime(2025, 11, 26, tzinfo=UTC)),
        ("2025-11-26t00:00:00z", datetime(2025, 11, 26, tzinfo=UTC)),
        ("2025-11-26 00:00:00Z", datetime(2025, 11, 26, tzinfo=UTC)),
        ("2024-02-29T23:59:59.5-05:30",
         datetime(2024, 2, 29, 23, 59, 59, 500000, tzinfo=timezone(-timedelta(hours=5.5)))),
        ("2000-03-01T12:00:00+14:00",
         datetime(2000, 3, 1, 12, tzinfo=timezone(timedelta(hours=14)))),
        ("1970-01-01T00:00:00Z", datetime(1970, 1, 1, tzinfo=UTC)),
        ("2100-12-31T23:59:59Z", datetime(2100, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)  # fmt: skip
def test_rfc3339_matches_datetime(text: str, expected: datetime) -> None:
    assert parse_rfc3339(text) == expected.timestamp()


def test_nanosecond_fraction_from_go_is_accepted() -> None:
    parsed = parse_rfc3339("2025-11-26T03:59:49.123456789Z")
    expected = datetime(2025, 11, 26, 3, 59, 49, 123457, tzinfo=UTC).timestamp()
    assert parsed == pytest.approx(expected, abs=1e-6)


def test_leap_second_is_the_next_minute() -> None:
    assert parse_rfc3339("2016-12-31T23:59:60Z") == datetime(2017, 1, 1, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    "text",
    [
        "2025-11-26",
        "2025-11-26T00:00:00",  # no offset: ambiguous
        "2025-11-26T00:00Z",
        "2025-02-29T00:00:00Z",  # not a leap year
        "1900-02-29T00:00:00Z",
        "2025-13-01T00:00:00Z",
        "2025-11-31T00:00:00Z",
        "2025-11-26T24:00:00Z",
        "2025-11-26T00:00:00+24:00",
        "2025-11-26T00:00:00.Z",
        "2025-11-26T00:00:00Z trailing",
        "２０２５-11-26T00:00:00Z",  # full-width digits
        "1764115200",
        "",
    ],
)
def test_not_rfc3339_is_none(text: str) -> None:
    assert parse_rfc3339(text) is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (-1, "ts: epoch seconds out of range [0, 1e11) (got number -1)"),
        (10**400, "ts: epoch seconds out of range [0, 1e11) (got huge number; milliseconds?)"),
        (float("nan"), "ts: epoch seconds out of range [0, 1e11) (got NaN)"),
        ("1969-12-31T23:59:59Z",
         "ts: epoch seconds out of range [0, 1e11) (got string '1969-12-31T23:59:59Z')"),
        (False, "ts: not RFC 3339 or epoch seconds (got bool false)"),
        ([1], "ts: not RFC 3339 or epoch seconds (got array)"),
        (datetime(2025, 1, 1), "ts: not RFC 3339 or epoch seconds (got datetime)"),  # naive
    ],
)  # fmt: skip
def test_bad_epoch_values_are_field_errors(value: object, reason: str) -> None:
    with pytest.raises(FieldError) as caught:
        to_epoch_s("ts", value)
    assert caught.value.reason == reason


def test_aware_datetime_from_yaml_is_accepted() -> None:
    assert to_epoch_s("ts", datetime(2025, 11, 26, tzinfo=UTC)) == 1_764_115_200.0
