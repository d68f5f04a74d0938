"""Retraining and fallback planner: turns ML anomalies into the ``monitoring.actions`` lists.

Data and prediction drift run ``actions.on_drift_detected``; performance degradation runs
``actions.on_performance_degradation``. Decide only, never send:

* ``trigger_retraining_pipeline`` -> a ``RetrainRequest`` for the ML pipeline trigger topic
  (``ml.retrain``), at most one per model per ``retrain_cooldown`` (event time).
* ``switch_to_fallback_model`` -> an ``Action`` of type ``model_control`` (receiver
  ``model-control``); the runtime publishes its payload to the model-control topic and, when
  ``actions.fallback`` is set, moves the MLflow alias (``connectors.mlflow``). One per model per
  ``fallback_cooldown``.
* ``trigger_investigation_notebook`` -> an ``Action`` of type ``webhook`` to
  ``actions.notebook_receiver``.
* ``alert_team`` -> an ``Action`` to the receiver named by ``model_performance.alert``
  (``slack://ml-alerts`` -> Slack receiver ``ml-alerts``, which routing must define); without
  ``alert`` the anomaly's incident is routed as usual and nothing extra is sent.

Performance *estimates* (before labels) only alert; retraining and fallback need measured
performance. Alerts, notebooks and fallbacks go out at once (they are urgent) and name the
incident holding the anomaly when it is in the same batch.

A retrain request is *held* until the incident record holding its anomaly arrives (the
correlator emits it only once the incident is confirmed, or at its end as ``noise``), at most
``actions.incident_wait`` of event time (default 30 min, 0 = never hold). Retraining is not
urgent, but whoever handles the request needs the incident: a drift that an upstream data outage
caused (its incident's root cause is the feature store, not the model) calls for fixing the data,
not for training on broken features. A request whose wait runs out goes out with
``incident: null`` and ``evidence.incident_note`` saying why. The cooldown counts from the
anomaly that decided the request, held or not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from engine.act.model_actions import (
    REASONS,
    action_payload,
    alert_actions,
    decided_action,
    fallback_action,
    retrain_request,
)
from engine.events import Action, Anomaly, AnomalyKind, EventTime, Incident, RetrainRequest
from engine.operator import OperatorExample, register_example
from engine.rules.monitoring import ModelMonitoringSpec, MonitoringConfig
from engine.vocabulary import JsonDict


@dataclass(slots=True)
class HeldRequest:
    """A retrain request waiting until ``until`` (event time) for an incident holding
    ``anomaly``. Written as the request's wire form plus ``anomaly`` and ``until``."""

    request: RetrainRequest
    anomaly: str
    until: EventTime

    def to_dict(self) -> JsonDict:
        return self.request.to_wire() | {"anomaly": self.anomaly, "until": self.until}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HeldRequest:
        return cls(RetrainRequest.from_wire(data), data["anomaly"], data["until"])


@dataclass(slots=True)
class RetrainState:
    """Last retrain / fallback decision time per model (event time), for the cooldowns."""

    last_retrain: dict[str, float] = field(default_factory=dict)
    last_fallback: dict[str, float] = field(default_factory=dict)
    held: list[HeldRequest] = field(default_factory=list)
    """Retrain requests waiting for their incident."""
    version: int = 2

    def to_dict(self) -> JsonDict:
        return {
            "version": self.version,
            "last_retrain": dict(self.last_retrain),
            "last_fallback": dict(self.last_fallback),
            "held": [h.to_dict() for h in self.held],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RetrainState:
        if int(data["version"]) == 1:
            data = _upgrade_v1_to_v2(data)
        return cls(
            dict(data["last_retrain"]),
            dict(data["last_fallback"]),
            [HeldRequest.from_dict(h) for h in data["held"]],
            int(data["version"]),
        )


def _upgrade_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 sent every request at once: nothing was held."""
    return {**data, "held": [], "version": 2}


@dataclass(frozen=True, slots=True)
class RetrainPlanner:
    """ML anomalies in, retrain requests and model actions out (per the monitoring rules).

    Examples
    --------
    >>> from engine.events import Severity
    >>> cfg = MonitoringConfig.model_validate({"model_performance": {
    ...     "metrics": [{"name": "f1_score", "minimum": 0.9}], "alert": "slack://ml-alerts"},
    ...     "actions": {"on_performance_degradation": [
    ...         "alert_team", "trigger_retraining_pipeline"]}})
    >>> op = RetrainPlanner.from_rules(cfg)
    >>> drop = [Anomaly(f"an-{i}", 100.0 * i, AnomalyKind.PERFORMANCE, "fraud", {"model": "fraud"},
    ...         0.9, Severity.ERROR, {"metric": "f1_score", "value": 0.7, "bound": 0.9})
    ...         for i in (1, 2)]
    >>> state, out = op.process(op.initial_state(), drop, now=200.0)
    >>> [getattr(o, "receiver", None) for o in out]  # alerts at once; the retrain request waits
    ['ml-alerts', 'ml-alerts']
    >>> _, out = op.process(state, [], now=2000.0)  # no incident held an-1 within 30 min
    >>> [(o.reason, o.incident, o.evidence["incident_note"].split(" within")[0]) for o in out]
    [('performance_degradation', None, 'no incident record held the anomaly')]
    >>> len(out)  # the second drop was within the 24h retrain cooldown: no second request
    1
    """

    config: MonitoringConfig | None = None
    name: str = "retrain"

    @classmethod
    def from_rules(cls, rules: MonitoringConfig | None) -> RetrainPlanner:
        return cls(config=rules)

    def initial_state(self) -> RetrainState:
        return RetrainState()

    def process(
        self, state: RetrainState, batch: Sequence[Anomaly | Incident], *, now: EventTime
    ) -> tuple[RetrainState, list[RetrainRequest | Action]]:
        """Updates ``state`` in place (cooldowns) and returns it."""
        out: list[RetrainRequest | Action] = []
        if self.config is None:
            return state, out
        incident_of = {a: i.id for i in batch if isinstance(i, Incident) for a in i.alerts}
        for event in batch:
            if isinstance(event, Incident):
                out.extend(_attach(state, event))
                continue
            out.extend(_expire(state, event.ts))
            if event.kind not in REASONS:
                continue
            model = str(event.subject.get("model", event.node))
            spec = self.config.spec_for(model)
            if spec is None:
                continue
            decided = self._decide(spec, state, model, event, incident_of.get(event.id))
            out.extend(_hold(state, decided, event, spec.actions.incident_wait))
        out.extend(_expire(state, now))
        return state, out

    def _decide(
        self,
        spec: ModelMonitoringSpec,
        state: RetrainState,
        model: str,
        anomaly: Anomaly,
        incident: str | None,
    ) -> list[RetrainRequest | Action]:
        performance = anomaly.kind is AnomalyKind.PERFORMANCE
        names = (
            spec.actions.on_performance_degradation
            if performance
            else spec.actions.on_drift_detected
        )
        estimate = bool(anomaly.detail.get("estimate"))
        out: list[RetrainRequest | Action] = []
        for name in names:
            if name == "alert_team":
                out.extend(alert_actions(spec, anomaly, incident))
            elif name == "trigger_investigation_notebook":
                receiver, payload = spec.actions.notebook_receiver, action_payload(model, anomaly)
                out.append(decided_action(anomaly, incident, receiver, "webhook", payload))
            elif estimate:
                continue
            elif name == "trigger_retraining_pipeline":
                if _cool(state.last_retrain, model, anomaly.ts, spec.actions.retrain_cooldown):
                    out.append(retrain_request(model, anomaly, incident))
            elif _cool(state.last_fallback, model, anomaly.ts, spec.actions.fallback_cooldown):
                out.append(fallback_action(spec, model, anomaly, incident))
        return out


def _hold(
    state: RetrainState, decided: list[RetrainRequest | Action], anomaly: Anomaly, wait_s: float
) -> list[RetrainRequest | Action]:
    """Hold the retrain requests among ``decided`` that know no incident yet; pass the rest."""
    out: list[RetrainRequest | Action] = []
    for item in decided:
        if isinstance(item, RetrainRequest) and item.incident is None and wait_s > 0:
            state.held.append(HeldRequest(item, anomaly.id, anomaly.ts + wait_s))
        else:
            out.append(item)
    return out


def _attach(state: RetrainState, incident: Incident) -> list[RetrainRequest]:
    """Release the held requests whose anomaly ``incident`` holds, naming it."""
    members = set(incident.alerts)
    released = [h for h in state.held if h.anomaly in members]
    state.held = [h for h in state.held if h.anomaly not in members]
    return [_request_of(h, incident.id, None) for h in released]


def _expire(state: RetrainState, ts: EventTime) -> list[RetrainRequest]:
    """Release the held requests whose wait is over at ``ts``, with ``incident: null``."""
    expired = [h for h in state.held if ts >= h.until]
    if not expired:
        return []
    state.held = [h for h in state.held if ts < h.until]
    note = "no incident record held the anomaly within actions.incident_wait"
    return [_request_of(h, None, note) for h in expired]


def _request_of(held: HeldRequest, incident: str | None, note: str | None) -> RetrainRequest:
    evidence = dict(held.request.evidence) | ({"incident_note": note} if note else {})
    return replace(held.request, evidence=evidence, incident=incident)


def _cool(last: dict[str, float], model: str, ts: float, cooldown_s: float) -> bool:
    """True (and records ``ts``) when the model's last decision is ``cooldown_s`` old."""
    previous = last.get(model)
    if previous is not None and ts - previous < cooldown_s:
        return False
    last[model] = ts
    return True


def _example_planner() -> RetrainPlanner:
    from engine.rules import parse

    rules = parse(open_example(), "rules/model_monitoring.yml")
    return RetrainPlanner.from_rules(rules.monitoring)


def open_example() -> str:
    """The user's monitoring config as shipped (kept inline: the engine reads no files)."""
    return _USER_CONFIG


def _example_batch() -> list[Anomaly]:
    from engine.events import Severity

    kinds = [AnomalyKind.DATA_DRIFT, AnomalyKind.PERFORMANCE, AnomalyKind.PERFORMANCE]
    return [
        Anomaly(
            f"an-{i}",
            3600.0 * i,
            kind,
            "fraud-detector",
            {"model": "fraud-detector"},
            0.9,
            Severity.ERROR,
            {"metric": "f1_score", "value": 0.5, "bound": 0.9},
        )
        for i, kind in enumerate(kinds * 20)
    ]


_USER_CONFIG = """
monitoring:
  data_drift:
    features_to_monitor: [{name: transaction_amount, threshold: 0.05}]
  model_performance:
    metrics: [{name: f1_score, minimum: 0.90, window: 7d}]
    alert: "slack://ml-alerts"
  actions:
    on_drift_detected: [alert_team, trigger_investigation_notebook]
    on_performance_degradation: [alert_team, trigger_retraining_pipeline, switch_to_fallback_model]
"""

register_example(OperatorExample("retrain", _example_planner, _example_batch, RetrainState))
