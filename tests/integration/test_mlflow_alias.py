"""The MLflow alias move against a real local HTTP server speaking MLflow's REST shape."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.mlflow import MlflowError, apply_fallback, switch_alias
from engine.events import Action
from tests.integration.mlflow_stub import Registry, running_registry


@pytest.fixture
def registry() -> Iterator[str]:
    with running_registry() as url:
        yield url


@pytest.mark.integration
def test_fallback_action_moves_alias(registry: str) -> None:
    action = Action(
        "act-1",
        1.0,
        "inc-1",
        "model-control",
        "model_control",
        "k",
        {"mlflow": {"name": "fraud-detector", "alias": "champion", "version": "3"}},
    )
    assert apply_fallback(action, registry, timeout_s=2.0)
    assert [(path, body) for path, body, _ in Registry.requests] == [
        (
            "/api/2.0/mlflow/registered-models/alias",
            {"name": "fraud-detector", "alias": "champion", "version": "3"},
        )
    ]


@pytest.mark.integration
def test_server_errors_are_retryable_and_client_errors_are_not(registry: str) -> None:
    Registry.script = [503, 404]
    with pytest.raises(MlflowError) as first:
        switch_alias(registry, "m", "champion", "1", timeout_s=2.0)
    with pytest.raises(MlflowError) as second:
        switch_alias(registry, "m", "champion", "1", timeout_s=2.0)
    assert first.value.retryable
    assert not second.value.retryable
