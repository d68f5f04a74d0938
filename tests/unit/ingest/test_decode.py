"""decode_record / decode_object: the common rules of the wire contract, metrics and logs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.events import InputKind, Level, LogRecord, MetricPoint, Rejected
from engine.ingest.decode import Origin, decode_object, decode_record, reason_class

T = 1_764_115_200.0
KAFKA = Origin("metrics", partition=3, offset=18842, timestamp=T)
M = InputKind.METRICS


def errors(kind: InputKind, raw: bytes, origin: Origin = KAFKA) -> list[str]:
    out = decode_record(kind, raw, origin)
    assert all(isinstance(item, Rejected) for item in out), out
    return [item.error for item in out if isinstance(item, Rejected)]


def test_metric_record_decodes_to_metric_point() -> None:
    raw = (
        b'{"ts": 1764115200, "name": "http_request_duration_p99_seconds", "value": 0.231,'
        b' "labels": {"service": "checkout", "host": "node-3", "cluster": "eu-1"}}'
    )
    assert decode_record(M, raw, KAFKA) == [
        MetricPoint(
            T,
            "http_request_duration_p99_seconds",
            0.231,
            {"service": "checkout", "host": "node-3", "cluster": "eu-1"},
        )
    ]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"name": "up", "value": "1"}', "value: not a finite number (got string '1')"),
        (b'{"name": "up", "value": true}', "value: not a finite number (got bool true)"),
        (b'{"name": "up", "value": null}', "value: not a finite number (got null)"),
        (b'{"name": "up"}', "value: required"),
        (b'{"value": 1}', "name: required"),
        (b'{"name": "", "value": 1}', "name: must be a non-empty string (got string '')"),
        (b'{"name": 7, "value": 1}', "name: must be a non-empty string (got number 7)"),
        (
            b'{"name": "up", "value": NaN}',
            "value: not a finite number (got NaN; not valid JSON)",
        ),
        (
            b'{"name": "up", "value": -Infinity}',
            "value: not a finite number (got -Infinity; not valid JSON)",
        ),
        (
            b'{"name": "up", "value": 1e999}',
            "value: not a finite number (got Infinity; not valid JSON)",
        ),
        (
            b'{"name": "up", "value": 1, "labels": {"port": 80}}',
            "labels: must be a map of strings (labels.port is number)",
        ),
        (
            b'{"name": "up", "value": 1, "labels": ["a"]}',
            "labels: must be a map of strings (got array)",
        ),
        (
            b'{"ts": "yesterday", "name": "up", "value": 1}',
            "ts: not RFC 3339 or epoch seconds (got string 'yesterday')",
        ),
        (
            b'{"ts": true, "name": "up", "value": 1}',
            "ts: not RFC 3339 or epoch seconds (got bool true)",
        ),
        (
            b'{"ts": 1764115200000, "name": "up", "value": 1}',
            "ts: epoch seconds out of range [0, 1e11) (got number 1764115200000; milliseconds?)",
        ),
        (b"[1]", "not a JSON object (got number)"),
        (b'"up"', "not a JSON object (got string)"),
    ],
)
def test_invalid_metric_is_rejected_with_reason_naming_the_key(raw: bytes, reason: str) -> None:
    assert errors(M, raw) == [reason]


def test_rejected_carries_origin_and_original_bytes() -> None:
    raw = b'{"name": "up", "value": "x"}'
    [rejected] = decode_record(M, raw, KAFKA)
    assert rejected == Rejected(
        "metrics", "value: not a finite number (got string 'x')", raw, 3, 18842
    )


def test_missing_ts_takes_origin_timestamp_else_is_rejected() -> None:
    raw = b'{"name": "up", "value": 1}'
    assert decode_record(M, raw, Origin("metrics", timestamp=12.5)) == [
        MetricPoint(12.5, "up", 1.0, {})
    ]
    assert errors(M, raw, Origin("metrics")) == ["ts: missing"]
    assert errors(M, b'{"ts": null, "name": "up", "value": 1}', Origin("metrics")) == [
        "ts: missing"
    ]


def test_rfc3339_ts_with_offset_and_fraction() -> None:
    raw = b'{"ts": "2025-11-26T01:00:00.5+01:00", "name": "up", "value": 2}'
    assert decode_record(M, raw, KAFKA) == [MetricPoint(T + 0.5, "up", 2.0, {})]


def test_unknown_top_level_fields_are_ignored() -> None:
    raw = b'{"name": "up", "value": 1, "unit": {"deep": [1, 2]}, "x": null}'
    assert decode_record(M, raw, KAFKA) == [MetricPoint(T, "up", 1.0, {})]


def test_duplicate_keys_last_one_wins() -> None:
    raw = b'{"name": "up", "value": "bad", "value": 3}'
    assert decode_record(M, raw, KAFKA) == [MetricPoint(T, "up", 3.0, {})]


def test_batch_element_failure_rejects_only_that_element() -> None:
    raw = (
        b'[{"name": "a", "value": 1}, {"name": "b", "value": "x"}, 5, [],'
        b' {"name": "c", "value": 2}]'
    )
    out = decode_record(M, raw, KAFKA)
    assert out == [
        MetricPoint(T, "a", 1.0, {}),
        Rejected("metrics", "value: not a finite number (got string 'x')",
                 b'{"name":"b","value":"x"}', 3, 18842),
        Rejected("metrics", "not a JSON object (got number)", b"5", 3, 18842),
        Rejected("metrics", "not a JSON object (got array)", b"[]", 3, 18842),
        MetricPoint(T, "c", 2.0, {}),
    ]  # fmt: skip


def test_empty_batch_yields_nothing() -> None:
    assert decode_record(M, b"[]", KAFKA) == []


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe{}", "not valid UTF-8 (byte 0xff at offset 0)"),
        (b'{"name": "caf\xc3", "value": 1}', "not valid UTF-8 (byte 0xc3 at offset 13)"),
        (b"", "not valid JSON: Input is a zero-length, empty document: line 1 column 1 (char 0)"),
        (b'{"name": "up", ', "not valid JSON: unexpected end of data: line 1 column 16 (char 15)"),
    ],
)
def test_undecodable_bytes_are_rejected(raw: bytes, reason: str) -> None:
    assert errors(M, raw) == [reason]


def test_deep_nesting_is_rejected_not_raised() -> None:
    [reason] = errors(M, b"[" * 100_000 + b"]" * 100_000)
    assert reason.startswith("not valid JSON: depth limit exceeded")
    [reason] = errors(M, b'{"name": "up", "value": ' + b"[" * 5000 + b"1" + b"]" * 5000 + b"}")
    assert reason.startswith("not valid JSON: depth limit exceeded")


def test_nan_in_an_ignored_field_still_rejects_the_record() -> None:
    assert errors(M, b'{"name": "up", "value": 1, "extra": NaN}') == [
        "not valid JSON: unexpected character, expected a JSON value: line 1 column 37 (char 36)"
        " (NaN or Infinity)"
    ]


def test_huge_strings_decode() -> None:
    name = "n" * 1_000_000
    [point] = decode_record(M, b'{"name": "%s", "value": 1}' % name.encode(), KAFKA)
    assert isinstance(point, MetricPoint)
    assert point.name == name


def test_decode_object_uses_raw_for_whole_record_rejection() -> None:
    out = decode_object(M, {"name": 1}, KAFKA, raw=b"original")
    assert [(r.error, r.value) for r in out if isinstance(r, Rejected)] == [
        ("name: must be a non-empty string (got number 1)", b"original")
    ]
    out = decode_object(M, {"name": 1, "value": {1, 2}}, KAFKA)
    assert [r.value for r in out if isinstance(r, Rejected)] == [b'{"name":1,"value":"{1, 2}"}']


def test_reason_class_is_bounded() -> None:
    assert reason_class("labels: must be a map of strings (labels.port is number)") == (
        "labels: must be a map of strings"
    )
    assert reason_class("alerts[12].startsAt: not RFC 3339 or epoch seconds (got x)") == (
        "alerts.startsAt: not RFC 3339 or epoch seconds"
    )
    assert reason_class("not valid JSON: unexpected end of data: line 1") == "not valid JSON"


# ---------------------------------------------------------------------------------------------
# logs

L = InputKind.LOGS
LOGS = Origin("logs", 0, 7, T)


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("ERROR", Level.ERROR),
        ("error", Level.ERROR),
        ("Warning", Level.WARN),
        ("WARN", Level.WARN),
        (" fatal ", Level.FATAL),
        ("trace", Level.TRACE),
        ("CRITICAL", Level.FATAL),
        (None, Level.INFO),
    ],
)
def test_log_level_is_normalised(level: str | None, expected: Level) -> None:
    obj = {"ts": "2026-11-26T03:59:49.123Z", "message": "m", "level": level}
    [record] = decode_object(L, obj, LOGS)
    at = datetime(2026, 11, 26, 3, 59, 49, 123000, tzinfo=UTC).timestamp()
    assert record == LogRecord(at, "m", expected, {})


def test_unknown_log_level_is_rejected() -> None:
    assert errors(L, b'{"message": "m", "level": "LOUD"}', LOGS) == [
        "level: must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL (got string 'LOUD')"
    ]
    assert errors(L, b'{"level": "INFO"}', LOGS) == ["message: required"]
    assert errors(L, b'{"message": ["m"]}', LOGS) == ["message: must be a string (got array)"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"Connection refused to db-1:5432\n", "Connection refused to db-1:5432"),
        (b"{not json at all\r\n", "{not json at all"),
        (b"42", "42"),
        (b'"quoted line"', "quoted line"),
        (b"  indented\ttext  \n", "  indented\ttext  "),
    ],
)
def test_non_json_log_value_is_a_plain_text_line(raw: bytes, message: str) -> None:
    assert decode_record(L, raw, LOGS) == [LogRecord(T, message, Level.INFO, {})]


def test_plain_text_line_without_record_time_is_rejected() -> None:
    assert errors(L, b"boom", Origin("logs")) == ["ts: missing"]
    assert errors(L, b" \r\n", LOGS) == ["message: blank line"]
    assert decode_record(L, b'["a", ""]', LOGS) == [
        LogRecord(T, "a", Level.INFO, {}),
        Rejected("logs", "message: blank line", b'""', 0, 7),
    ]
    assert errors(L, b"caf\xc3 boom", LOGS) == ["not valid UTF-8 (byte 0xc3 at offset 3)"]


def test_log_batch_may_mix_objects_and_lines() -> None:
    raw = b'[{"ts": 1, "message": "a", "level": "ERROR", "labels": {"service": "p"}}, "b"]'
    assert decode_record(L, raw, LOGS) == [
        LogRecord(1.0, "a", Level.ERROR, {"service": "p"}),
        LogRecord(T, "b", Level.INFO, {}),
    ]
