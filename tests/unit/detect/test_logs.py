from __future__ import annotations

import json

from engine.detect.logs import LogDetector, LogDetectorState
from engine.events import AnomalyKind, Level, LogRecord
from engine.rules.logs import LogRules
from engine.testing import T0


def rec(ts: float, message: str, level: Level = Level.INFO, service: str = "api") -> LogRecord:
    return LogRecord(T0 + ts, message, level, {"service": service})


def steady(minutes: int, per_minute: int = 4) -> list[LogRecord]:
    return [
        rec(m * 60 + i, f"GET /items/{i} 200 in {i + 3}ms")
        for m in range(minutes)
        for i in range(per_minute)
    ]


def test_new_error_template_is_an_anomaly_with_parameters() -> None:
    det = LogDetector.from_rules(LogRules())
    _, out = det.process(
        det.initial_state(), [rec(1, "payment 4242 declined", Level.ERROR)], now=T0 + 2
    )
    assert [a.detail["reason"] for a in out] == ["new_template"]
    anomaly = out[0]
    assert anomaly.kind is AnomalyKind.LOG
    assert anomaly.node == "api"
    assert anomaly.subject["template"] == "payment <*> declined"
    assert anomaly.detail["parameters"] == ["4242"]


def test_new_info_template_is_not_an_anomaly() -> None:
    det = LogDetector.from_rules(LogRules())
    _, out = det.process(det.initial_state(), [rec(1, "cache warmed")], now=T0 + 2)
    assert out == []


def test_stack_trace_is_joined_into_one_record() -> None:
    det = LogDetector.from_rules(LogRules())
    batch = [
        rec(1, "request failed", Level.ERROR),
        rec(1, "\tat a.B.c(B.java:1)"),
        rec(1, "Caused by: java.io.IOException: eof"),
        rec(2, "GET /x 200 in 3ms"),
    ]
    state, out = det.process(det.initial_state(), batch, now=T0 + 2)
    assert [a.detail["reason"] for a in out] == ["new_template"]
    assert out[0].detail["sample"].count("\n") == 2
    assert len(state.services["api"].miner.templates) == 1  # the trailing GET is still pending


def test_rate_spike_after_warm_up() -> None:
    det = LogDetector.from_rules(LogRules())
    batch = steady(12) + [rec(12 * 60 + i * 0.5, f"GET /items/{i} 200 in 5ms") for i in range(60)]
    _, out = det.process(det.initial_state(), batch, now=T0 + 14 * 60)
    reasons = [(a.detail["reason"], a.detail["count"]) for a in out]
    assert reasons == [("rate_spike", 60)]


def test_rate_drop_when_template_vanishes() -> None:
    det = LogDetector.from_rules(LogRules())
    batch = [*steady(14, per_minute=10), rec(16 * 60, "other thing happened")]
    _, out = det.process(det.initial_state(), batch, now=T0 + 16 * 60)
    assert "rate_drop" in {a.detail["reason"] for a in out}


def test_error_ratio_rise() -> None:
    det = LogDetector.from_rules(LogRules(new_template_min_level="FATAL"))
    batch = steady(12, per_minute=10)
    batch += [rec(12 * 60 + i, f"GET /items/{i} 500 in 3ms", Level.ERROR) for i in range(10)]
    _, out = det.process(det.initial_state(), batch, now=T0 + 13 * 60)
    assert [a.detail["reason"] for a in out] == ["error_ratio"]


def test_state_round_trip_mid_stream_gives_same_outputs() -> None:
    det = LogDetector.from_rules(LogRules())
    batch = steady(12) + [rec(12 * 60 + i * 0.5, f"GET /items/{i} 200 in 5ms") for i in range(60)]
    state, first = det.process(det.initial_state(), batch[:30], now=T0)
    copy = LogDetectorState.from_dict(json.loads(json.dumps(state.to_dict())))
    _, rest = det.process(state, batch[30:], now=T0 + 14 * 60)
    _, rest_copy = det.process(copy, batch[30:], now=T0 + 14 * 60)
    assert rest == rest_copy
    assert first + rest != []


def test_late_record_counts_as_late_not_in_the_open_window() -> None:
    det = LogDetector.from_rules(LogRules())
    batch = [rec(10, "GET /a 200 in 3ms"), rec(130, "GET /b 200 in 4ms"),
             rec(30, "GET /c 200 in 5ms"), rec(125, "GET /d 200 in 6ms")]
    state, _ = det.process(det.initial_state(), batch, now=T0 + 126)
    window = state.services["api"].window
    assert window.start == T0 + 120
    assert (window.total, sum(window.counts.values()), window.late) == (2, 2, 1)


def test_record_in_the_open_window_counts_there_even_out_of_order() -> None:
    det = LogDetector.from_rules(LogRules())
    batch = [rec(10, "GET /a 200 in 3ms"), rec(50, "GET /b 200 in 4ms"),
             rec(20, "GET /c 200 in 5ms")]
    state, _ = det.process(det.initial_state(), batch, now=T0 + 51)
    window = state.services["api"].window
    assert (window.start, window.total, window.late) == (T0, 3, 0)


def test_version_1_state_loads_with_no_late_records() -> None:
    det = LogDetector.from_rules(LogRules())
    state, _ = det.process(det.initial_state(), steady(2), now=T0 + 130)
    data = json.loads(json.dumps(state.to_dict()))
    data["version"] = 1
    for service in data["services"].values():
        del service["window"]["late"]
    loaded = LogDetectorState.from_dict(data)
    assert loaded.version == 2
    assert loaded.to_dict() == state.to_dict()


def test_services_share_one_masking_memo_that_is_not_serialised() -> None:
    det = LogDetector.from_rules(LogRules())
    batch = [rec(1, "GET /a 200 in 3ms"), rec(2, "disk 7 full", service="db")]
    state, _ = det.process(det.initial_state(), batch, now=T0 + 3)
    memos = {id(logs.miner.memo) for logs in state.services.values()}
    assert memos == {id(state.memo)}
    assert "memo" not in json.dumps(state.to_dict())
