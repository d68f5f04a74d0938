"""What each ``monitoring.actions`` entry becomes for one ML anomaly (decided, never sent).

``alert_team`` and ``trigger_investigation_notebook`` become ``Action``s to a receiver,
``trigger_retraining_pipeline`` a ``RetrainRequest``, ``switch_to_fallback_model`` a
``model_control`` action. ``engine.act.retrain`` decides which, and when.
"""

from __future__ import annotations

from engine.events import Action, Anomaly, AnomalyKind, JsonDict, RetrainRequest, stable_id
from engine.rules.monitoring import ModelMonitoringSpec

REASONS = {
    AnomalyKind.DATA_DRIFT: "data_drift",
    AnomalyKind.PREDICTION_DRIFT: "prediction_drift",
    AnomalyKind.PERFORMANCE: "performance_degradation",
}
EVIDENCE_KEYS = ("feature", "test", "statistic", "p_value", "psi", "metric", "value", "bound")


def action_payload(model: str, anomaly: Anomaly) -> JsonDict:
    """The payload every model action carries: model, reason and the anomaly's wire form."""
    return {"model": model, "reason": REASONS[anomaly.kind], "anomaly": anomaly.to_wire()}


def decided_action(
    anomaly: Anomaly, incident: str | None, receiver: str, kind: str, payload: JsonDict
) -> Action:
    """An ``Action`` about ``anomaly`` to ``receiver``; anomaly, receiver and kind fix its id."""
    return Action(
        id=stable_id("act", anomaly.id, receiver, kind),
        ts=anomaly.ts,
        incident=incident or anomaly.id,
        receiver=receiver,
        type=kind,
        dedup_key=f"{anomaly.id}:{kind}",
        payload=payload,
    )


def alert_actions(
    spec: ModelMonitoringSpec, anomaly: Anomaly, incident: str | None
) -> list[Action]:
    """The ``alert_team`` action to ``model_performance.alert`` (none when it is not set)."""
    target = spec.model_performance.alert_receiver if spec.model_performance else None
    if target is None:
        return []
    model = str(anomaly.subject.get("model", anomaly.node))
    return [decided_action(anomaly, incident, target[1], target[0], action_payload(model, anomaly))]


def retrain_request(model: str, anomaly: Anomaly, incident: str | None) -> RetrainRequest:
    """The ``RetrainRequest`` for ``anomaly``, with the evidence keys its detail carries."""
    reason = REASONS[anomaly.kind]
    evidence: JsonDict = {k: anomaly.detail[k] for k in EVIDENCE_KEYS if k in anomaly.detail}
    version = anomaly.detail.get("version")
    return RetrainRequest(
        id=stable_id("rt", model, reason, anomaly.id),
        model=model,
        reason=reason,
        evidence=evidence,
        requested_at=anomaly.ts,
        dedup_key=f"{model}:{reason}:{anomaly.id}",
        version=version if isinstance(version, str) else None,
        incident=incident,
    )


def fallback_action(
    spec: ModelMonitoringSpec, model: str, anomaly: Anomaly, incident: str | None
) -> Action:
    """The ``model_control`` action switching ``model`` to its fallback (MLflow alias if set)."""
    payload = action_payload(model, anomaly) | {"command": "switch_to_fallback"}
    if spec.actions.fallback is not None:
        payload["mlflow"] = {
            "name": model,
            "alias": spec.actions.fallback.alias,
            "version": spec.actions.fallback.version,
        }
    return decided_action(anomaly, incident, "model-control", "model_control", payload)
