"""Fallback actions in embedded mode, through the outbox deliverer, against a local HTTP server
standing in for MLflow: ``model_control.jsonl`` gets the action, the registry gets the alias."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from connectors.retry import Backoff
from connectors.sender import OutboxDeliverer
from engine.act.retrain import RetrainPlanner
from engine.events import Action, ActionStatus, Anomaly, AnomalyKind, Severity
from engine.rules import parse
from tests.integration.mlflow_stub import Registry, running_registry

pytestmark = pytest.mark.integration

RULES = """
monitoring:
  model_performance:
    metrics: [{name: f1_score, minimum: 0.9}]
  actions:
    on_performance_degradation: [switch_to_fallback_model]
    fallback: {alias: champion, version: "3"}
"""


@pytest.fixture
def mlflow() -> Iterator[str]:
    with running_registry() as url:
        yield url


def fallback_actions() -> list[Action]:
    """The planner's real decision on a measured f1 drop of model ``fraud-detector``."""
    drop = Anomaly(
        "an-1",
        7200.0,
        AnomalyKind.PERFORMANCE,
        "fraud-detector",
        {"model": "fraud-detector"},
        0.9,
        Severity.ERROR,
        {"metric": "f1_score", "value": 0.7, "bound": 0.9},
    )
    planner = RetrainPlanner.from_rules(parse(RULES).monitoring)
    _, out = planner.process(planner.initial_state(), [drop], now=7200.0)
    actions = [a for a in out if isinstance(a, Action)]
    assert [a.type for a in actions] == ["model_control"]
    return actions


def deliver(out: Path, env: dict[str, str]) -> list[Action]:
    rules = parse(RULES).routing
    deliverer = OutboxDeliverer(rules, out, env=env, backoff=Backoff(0.01, 0.05))
    finals = deliverer(fallback_actions())
    return finals + deliverer.flush(5.0) + deliverer.close()


def lines(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_fallback_is_written_and_moves_the_alias(mlflow: str, tmp_path: Path) -> None:
    env = {"MLFLOW_TRACKING_URI": mlflow, "MLFLOW_TRACKING_TOKEN": "tok-1"}
    finals = deliver(tmp_path, env)
    assert [a.status for a in finals] == [ActionStatus.DELIVERED]
    written = lines(tmp_path / "model_control.jsonl")
    assert [r["id"] for r in written] == [finals[0].id]
    assert written[0]["payload"]["command"] == "switch_to_fallback"
    assert Registry.requests == [
        (
            "/api/2.0/mlflow/registered-models/alias",
            {"name": "fraud-detector", "alias": "champion", "version": "3"},
            "Bearer tok-1",
        )
    ]


def test_mlflow_outage_is_retried_and_written_once(mlflow: str, tmp_path: Path) -> None:
    Registry.script = [503, 503]
    finals = deliver(tmp_path, {"MLFLOW_TRACKING_URI": mlflow})
    assert [(a.status, a.attempts) for a in finals] == [(ActionStatus.DELIVERED, 3)]
    assert len(Registry.requests) == 3
    assert len(lines(tmp_path / "model_control.jsonl")) == 1


def test_mlflow_client_error_fails_the_action_with_the_reason(mlflow: str, tmp_path: Path) -> None:
    Registry.script = [404]
    finals = deliver(tmp_path, {"MLFLOW_TRACKING_URI": mlflow})
    assert [a.status for a in finals] == [ActionStatus.FAILED]
    assert "HTTP 404" in (finals[0].error or "")
    assert len(Registry.requests) == 1


def test_without_mlflow_the_action_is_only_written(mlflow: str, tmp_path: Path) -> None:
    finals = deliver(tmp_path, {})
    assert [a.status for a in finals] == [ActionStatus.DELIVERED]
    assert len(lines(tmp_path / "model_control.jsonl")) == 1
    assert Registry.requests == []
