from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from connectors.http.state import AppState
from connectors.http.thread import BackgroundServer
from connectors.metrics import MAX_REASONS, VigilMetrics, vigil_version
from engine.detect.cardinality import GuardState, admit
from engine.ingest.watermark import WatermarkState


def sample(metrics: VigilMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_each_app_has_its_own_registry() -> None:
    first, second = VigilMetrics(), VigilMetrics()
    first.count_dead_letter("late: ts 1 before watermark 2")
    assert sample(first, "vigil_dead_letters_total", reason="late") == 1.0
    assert sample(second, "vigil_dead_letters_total", reason="late") is None


def test_dead_letter_reasons_are_capped_to_keep_vigil_own_cardinality_low() -> None:
    metrics = VigilMetrics()
    for i in range(MAX_REASONS + 5):
        metrics.count_dead_letter(f"field{i}: bad")
    assert sample(metrics, "vigil_dead_letters_total", reason="other") == 5.0


def test_guard_counters_follow_the_guard_state_totals() -> None:
    metrics, state = VigilMetrics(), GuardState()
    for i in range(10):
        admit(state, f"k{i}", float(i), max_series=4, idle_s=100.0)
    metrics.observe_guard("metrics", state)
    metrics.observe_guard("metrics", state)  # observing twice does not double count
    assert sample(metrics, "vigil_series_dropped_total", kind="metrics") == 6.0
    assert sample(metrics, "vigil_live_series", kind="metrics") == 4.0


def test_late_event_counters_follow_the_watermark_counts() -> None:
    metrics = VigilMetrics()
    metrics.observe_watermark(WatermarkState(counts={"on_time": 9, "late": 2, "too_late": 1}))
    metrics.observe_watermark(WatermarkState(counts={"on_time": 20, "late": 5, "too_late": 1}))
    assert sample(metrics, "vigil_late_events_total", lateness="late") == 5.0
    assert sample(metrics, "vigil_late_events_total", lateness="too_late") == 1.0


def test_incident_late_events_count_each_batch_once() -> None:
    metrics = VigilMetrics()
    restored = {"released": 40, "duplicate": 3, "late": 7, "too_late": 1}  # counted elsewhere
    metrics.observe_reorder(restored, restored)
    assert sample(metrics, "vigil_incident_late_events_total", lateness="late") is None
    metrics.observe_reorder(restored, {**restored, "late": 9, "too_late": 2})
    assert sample(metrics, "vigil_incident_late_events_total", lateness="late") == 2.0
    assert sample(metrics, "vigil_incident_late_events_total", lateness="too_late") == 1.0


def test_404s_are_counted_as_404_under_one_route_label(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<html></html>")
    state = AppState(static_dir=tmp_path)  # the console's files: every path falls back there
    with BackgroundServer(state) as server, httpx.Client(base_url=server.url) as client:
        statuses = [client.get(f"/no/such/{i}").status_code for i in range(3)]
        statuses.append(client.get("/index.html").status_code)
    assert statuses == [404, 404, 404, 200]
    assert sample(state.metrics, "vigil_http_requests_total", route="unmatched", status="404") == 3
    assert sample(state.metrics, "vigil_http_requests_total", route="static", status="200") == 1
    routes = {
        s.labels["route"]
        for family in state.metrics.registry.collect()
        if family.name == "vigil_http_requests"
        for s in family.samples
    }
    # "connection": the connection guard's refusal counters, created when the server starts
    assert routes == {"unmatched", "static", "connection"}


def test_build_info_and_process_metrics_are_exported(client: httpx.Client) -> None:
    text = client.get("/metrics").text
    found = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert found[("vigil_build_info", (("version", vigil_version()),))] == 1
    assert found[("process_cpu_seconds_total", ())] >= 0
    assert found[("process_resident_memory_bytes", ())] > 0


def test_event_time_lag_is_processing_time_minus_the_watermark() -> None:
    metrics = VigilMetrics()
    metrics.observe_event_time(1000.0, None)  # no watermark yet: left as is
    assert sample(metrics, "vigil_event_time_lag_seconds") == 0
    metrics.observe_event_time(1000.0, 700.0)
    assert sample(metrics, "vigil_event_time_lag_seconds") == 300


def test_alert_memory_evictions_are_counted_per_batch_by_memory() -> None:
    from dataclasses import replace

    from connectors.metrics import alert_evictions
    from engine.correlate.reorder import EventReorder
    from engine.pipeline import Pipeline
    from engine.rules import RuleSet
    from engine.testing import T0
    from testing.examples import example_alert

    pipeline = Pipeline.from_rules(RuleSet())
    stage = replace(pipeline.incident, reorder=EventReorder(max_alert_keys=2))
    metrics, state = VigilMetrics(), stage.initial_state()
    for i, node in enumerate(["a", "b", "c", "d"]):
        before = alert_evictions(state)
        state, _ = stage.process(state, [example_alert(T0 + i, "firing", node)], now=T0 + i)
        metrics.observe_alert_memory(before, alert_evictions(state))
    assert alert_evictions(state) == {"correlate": 0, "reorder": 2}
    assert sample(metrics, "vigil_alerts_evicted_total", memory="reorder") == 2.0
    assert sample(metrics, "vigil_alerts_evicted_total", memory="correlate") is None
