"""RetrainPlanner runs the user's action lists with cooldowns."""

from __future__ import annotations

from pathlib import Path

from engine.act.retrain import RetrainPlanner, RetrainState
from engine.events import (
    Action,
    Anomaly,
    AnomalyKind,
    Incident,
    IncidentStatus,
    RetrainRequest,
    Severity,
)
from engine.rules import parse

USER = Path(__file__).parents[3] / "rules" / "model_monitoring.yml"


def planner(extra: str = "") -> RetrainPlanner:
    return RetrainPlanner.from_rules(parse(USER.read_text() + extra, str(USER)).monitoring)


def anomaly(i: int, kind: AnomalyKind, ts: float, estimate: bool = False) -> Anomaly:
    detail = {"metric": "f1_score", "value": 0.7, "bound": 0.9, "estimate": estimate}
    return Anomaly(
        f"an-{i}",
        ts,
        kind,
        "fraud-detector",
        {"model": "fraud-detector"},
        0.9,
        Severity.ERROR,
        detail,
    )


def test_performance_drop_alerts_retrains_and_switches_to_fallback() -> None:
    op = planner()
    incident = Incident("inc-1", IncidentStatus.OPEN, 10.0, 10.0, Severity.ERROR, "s", ("an-1",))
    _, out = op.process(
        op.initial_state(), [anomaly(1, AnomalyKind.PERFORMANCE, 10.0), incident], now=10.0
    )
    assert [(type(o).__name__, getattr(o, "type", None)) for o in out] == [
        ("Action", "slack"),
        ("RetrainRequest", None),
        ("Action", "model_control"),
    ]
    request = out[1]
    assert isinstance(request, RetrainRequest)
    assert request.incident == "inc-1"
    assert request.reason == "performance_degradation"
    assert request.dedup_key.startswith("fraud-detector:performance_degradation:")
    assert out[0].receiver == "ml-alerts"


def test_cooldown_allows_one_retraining_per_day() -> None:
    op = planner()
    batch = [anomaly(i, AnomalyKind.PERFORMANCE, 3600.0 * i) for i in range(30)]
    state, out = op.process(op.initial_state(), batch, now=0.0)
    retrains = [o for o in out if isinstance(o, RetrainRequest)]
    assert [r.requested_at for r in retrains] == [0.0, 86400.0]
    assert RetrainState.from_dict(state.to_dict()) == state


def test_drift_runs_notebook_webhook_and_estimates_never_retrain() -> None:
    op = planner()
    _, out = op.process(
        op.initial_state(),
        [anomaly(1, AnomalyKind.DATA_DRIFT, 5.0), anomaly(2, AnomalyKind.PERFORMANCE, 6.0, True)],
        now=6.0,
    )
    assert [(o.type, o.receiver) for o in out if isinstance(o, Action)] == [
        ("slack", "ml-alerts"),
        ("webhook", "investigation-notebook"),
        ("slack", "ml-alerts"),
    ]
    assert not any(isinstance(o, RetrainRequest) for o in out)


def test_fallback_carries_mlflow_alias_when_configured() -> None:
    op = planner("    fallback: {alias: champion, version: '3'}\n")
    _, out = op.process(op.initial_state(), [anomaly(1, AnomalyKind.PERFORMANCE, 1.0)], now=1.0)
    control = next(o for o in out if isinstance(o, Action) and o.type == "model_control")
    assert control.payload["mlflow"] == {
        "name": "fraud-detector",
        "alias": "champion",
        "version": "3",
    }


def _incident(id_: str, ts: float, *alerts: str) -> Incident:
    return Incident(id_, IncidentStatus.OPEN, ts, ts, Severity.ERROR, "s", alerts)


def test_retrain_request_waits_for_the_incident_record_of_a_later_batch() -> None:
    op = planner()
    state, out = op.process(
        op.initial_state(), [anomaly(1, AnomalyKind.PERFORMANCE, 10.0)], now=10.0
    )
    assert not any(isinstance(o, RetrainRequest) for o in out)
    assert any(isinstance(o, Action) and o.type == "model_control" for o in out)  # urgent
    state = RetrainState.from_dict(state.to_dict())
    state, out = op.process(state, [_incident("inc-other", 300.0, "an-9")], now=300.0)
    assert out == []
    state, out = op.process(state, [_incident("inc-7", 600.0, "an-0", "an-1")], now=600.0)
    assert [(type(o).__name__, o.incident) for o in out] == [("RetrainRequest", "inc-7")]
    assert "incident_note" not in out[0].evidence
    assert state.held == []


def test_held_request_goes_out_with_null_incident_and_a_note_when_the_wait_ends() -> None:
    op = planner("    incident_wait: 10m\n")
    state, _ = op.process(op.initial_state(), [anomaly(1, AnomalyKind.PERFORMANCE, 10.0)], now=10.0)
    state, out = op.process(state, [], now=609.0)
    assert out == []
    state, out = op.process(state, [], now=610.0)
    assert [(o.incident, o.requested_at) for o in out] == [(None, 10.0)]
    assert "incident_wait" in out[0].evidence["incident_note"]
    _, out = op.process(state, [_incident("inc-late", 700.0, "an-1")], now=700.0)
    assert out == []  # released once only


def test_holding_keeps_the_cooldown_from_the_deciding_anomaly() -> None:
    op = planner()
    batch = [anomaly(i, AnomalyKind.PERFORMANCE, 60.0 * i) for i in range(1, 5)]
    state, out = op.process(op.initial_state(), batch, now=240.0)
    assert len(state.held) == 1
    _, out = op.process(state, [_incident("inc-1", 300.0, "an-1", "an-2", "an-3")], now=300.0)
    assert [o.dedup_key for o in out if isinstance(o, RetrainRequest)] == [
        "fraud-detector:performance_degradation:an-1"
    ]


def test_zero_wait_sends_at_once_and_version_1_state_upgrades() -> None:
    op = planner("    incident_wait: 0s\n")
    _, out = op.process(op.initial_state(), [anomaly(1, AnomalyKind.PERFORMANCE, 10.0)], now=10.0)
    assert [o.incident for o in out if isinstance(o, RetrainRequest)] == [None]
    old = {"version": 1, "last_retrain": {"m": 5.0}, "last_fallback": {}}
    assert RetrainState.from_dict(old) == RetrainState({"m": 5.0}, {}, [], 2)
