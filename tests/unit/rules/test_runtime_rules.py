from __future__ import annotations

import pytest

from engine.rules import RuleError, parse


def test_runtime_section_defaults_when_absent() -> None:
    runtime = parse("logs: {}\n").runtime
    assert (runtime.allowed_lateness, runtime.max_series, runtime.http.max_body_bytes) == (
        300.0,
        100_000,
        1_048_576,
    )


def test_runtime_durations_and_limits_are_parsed() -> None:
    text = (
        "runtime:\n"
        "  allowed_lateness: 2m\n"
        "  late_events: accept\n"
        "  series_idle: 1h\n"
        "  http:\n"
        "    max_body_bytes: 2048\n"
    )
    runtime = parse(text).runtime
    assert runtime.allowed_lateness == 120.0
    assert runtime.late_events == "accept"
    assert runtime.series_idle == 3600.0
    assert runtime.http.max_body_bytes == 2048


def test_bad_runtime_values_point_at_file_line_and_key() -> None:
    text = "runtime:\n  max_series: 0\n  late_events: drop\n  http:\n    max_bodyy: 1\n"
    with pytest.raises(RuleError) as err:
        parse(text, source="rules/runtime.yaml")
    lines = str(err.value).splitlines()
    assert lines[0] == (
        "rules/runtime.yaml:2: runtime.max_series: Input should be greater than or equal to 1"
        " (got 0)"
    )
    assert lines[1].startswith("rules/runtime.yaml:3: runtime.late_events: ")
    assert lines[2] == "rules/runtime.yaml:5: runtime.http.max_bodyy: unknown key"


def test_operators_are_built_from_the_runtime_section() -> None:
    from engine.detect.cardinality import SeriesGuard
    from engine.ingest.watermark import WatermarkTracker

    runtime = parse(
        "runtime:\n  allowed_lateness: 1m\n  late_events: accept\n  max_series: 7\n"
        "  series_idle: 10m\n  idle_source: 2m\n"
    ).runtime
    assert WatermarkTracker.from_rules(runtime) == WatermarkTracker(60.0, "accept", 120.0)
    assert SeriesGuard.from_rules(runtime) == SeriesGuard(7, 600.0)
