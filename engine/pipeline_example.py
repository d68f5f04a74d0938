"""The whole pipeline's conformance example (tests/conformance): a generated scenario, by
its final word per incident (``_final_word``)."""

from __future__ import annotations

from typing import Any

from engine.events import Action, Anomaly, Incident
from engine.ingest.marks import Sourced
from engine.operator import OperatorExample, register_example
from engine.pipeline import Pipeline, PipelineOutput
from engine.rules import RuleSet
from engine.state import PipelineState


def _example_pipeline() -> Pipeline:
    return Pipeline.from_rules(RuleSet())


_EXAMPLE_HOURS = 3.0


def _example_batch() -> list[Sourced]:
    from testing.scenarios.shop import generate_scenario

    scenario = generate_scenario(seed=3, n_services=10, n_hosts=3, hours=_EXAMPLE_HOURS)
    return [Sourced("scenario", event) for event in scenario.events()]


def _final_word(outputs: list[PipelineOutput]) -> tuple[Any, ...]:
    """Anomalies exactly; incidents and actions by their last word per incident.

    Incident records are emitted once per ``process`` call that changes an incident, so a split
    batch may show an intermediate revision; what must agree is every anomaly and where each
    incident ended up.
    """
    anomalies = [o for o in outputs if isinstance(o, Anomaly)]
    last: dict[str, Incident] = {}
    for o in outputs:
        if isinstance(o, Incident):
            last[o.id] = o
    final = {i: (inc.status, sorted(inc.alerts), inc.root_causes[:1]) for i, inc in last.items()}
    told = sorted({(a.incident, a.receiver) for a in outputs if isinstance(a, Action)})
    return anomalies, final, told


register_example(
    OperatorExample(
        "pipeline",
        _example_pipeline,
        _example_batch,
        PipelineState,
        now=None,
        normalize=_final_word,
    )
)
