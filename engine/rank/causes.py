"""CauseRanker: incident snapshots -> incidents with ranked root causes, evidence and a summary.

Each snapshot carries its members and topology neighbourhood, so ranking one needs no global
state. The only state is each open incident's current top cause: a later revision names a
different top cause only when it scores at least ``hysteresis`` above the incumbent (stronger
evidence, not a coin flip between near-equal candidates), so receivers are not re-paged for a
cause that switches back and forth. Scores are a softmax over the candidates' feature scores
(they sum to at most 1 over the reported causes; higher is more probable), each capped at the
score of the cause ranked above it (a node placed after another by the evidence rules of
``score_candidates`` never shows a higher score than it).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.events import EventTime, Incident, IncidentSnapshot, IncidentStatus, RootCause
from engine.operator import OperatorExample, register_example
from engine.rank.evidence import describe, summarize
from engine.rank.scoring import Candidate, is_unsupported, score_candidates
from engine.rank.signals import IncidentView, build_view
from engine.rank.weights import HAND_WEIGHTS, LEARNED_WEIGHTS
from engine.rules import RuleSet
from engine.testing import T0
from engine.vocabulary import JsonDict

WEIGHT_SETS = {"learned": LEARNED_WEIGHTS, "hand": HAND_WEIGHTS}
STATE_VERSION = 2


@dataclass(slots=True)
class RankState:
    """Open incident id -> its current top cause (the node named first in its last record)."""

    tops: dict[str, str] = field(default_factory=dict)
    version: int = STATE_VERSION

    def to_dict(self) -> JsonDict:
        return {"version": self.version, "tops": dict(self.tops)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RankState:
        if data.get("version", 1) == 1:
            data = _upgrade_v1_to_v2(data)
        return cls(tops=dict(data["tops"]))


def _upgrade_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 was stateless (``NullState``): no incident has an incumbent top cause."""
    return {**data, "tops": {}, "version": 2}


@dataclass(frozen=True, slots=True)
class CauseRanker:
    """Rank probable root causes (services, hosts, changes) of each incident snapshot.

    Examples
    --------
    >>> from engine.events import (Anomaly, AnomalyKind, IncidentStatus, Severity,
    ...                            TopologyEdge, TopologyNode)
    >>> def an(node, ts, score):
    ...     return Anomaly(f"an-{node}", ts, AnomalyKind.METRIC, node,
    ...                    {"name": "latency_p99_seconds"}, score, Severity.WARNING)
    >>> anomalies = (an("db", 60.0, 0.99), an("web", 120.0, 0.999999))
    >>> incident = Incident("inc-1", IncidentStatus.OPEN, 60.0, 120.0, Severity.WARNING, "",
    ...                     ("an-db", "an-web"))
    >>> snap = IncidentSnapshot(incident, anomalies, nodes=(TopologyNode("web"),
    ...                         TopologyNode("db")), edges=(TopologyEdge("web", "db"),))
    >>> state, [out] = CauseRanker().process(CauseRanker().initial_state(), [snap], now=120.0)
    >>> [(c.node, round(c.score, 2)) for c in out.root_causes]
    [('db', 0.79), ('web', 0.21)]
    >>> out.root_causes[0].evidence[:2]
    ('earliest onset among 2 anomalous nodes', '1 of 2 anomalous nodes depend on it (web)')
    """

    max_causes: int = 5
    temperature: float = 0.1
    hysteresis: float = 0.05
    """How much higher (raw score) a challenger must score to replace the incumbent top cause."""
    weights: str = "learned"
    """Which feature weights score candidates: ``"learned"`` or ``"hand"`` (see weights.py)."""
    name: str = "rank"

    def __post_init__(self) -> None:
        if self.max_causes < 1:
            raise ValueError(f"max_causes must be >= 1, got {self.max_causes}")
        if self.temperature <= 0 or self.hysteresis < 0:
            raise ValueError("temperature must be > 0 and hysteresis >= 0")
        if self.weights not in WEIGHT_SETS:
            raise ValueError(f"weights must be one of {sorted(WEIGHT_SETS)}, got {self.weights!r}")

    @classmethod
    def from_rules(cls, rules: RuleSet) -> CauseRanker:
        return cls()

    def initial_state(self) -> RankState:
        return RankState()

    def process(
        self, state: RankState, batch: Sequence[IncidentSnapshot], *, now: EventTime
    ) -> tuple[RankState, list[Incident]]:
        """One ranked ``Incident`` per snapshot, in order; keeps each open incident's top
        cause unless a challenger is clearly stronger. Updates ``state`` in place."""
        out = []
        for snap in batch:
            incident_id = snap.incident.id
            ranked = self.rank(snap, incumbent=state.tops.get(incident_id))
            if snap.incident.status is IncidentStatus.RESOLVED or not ranked.root_causes:
                state.tops.pop(incident_id, None)
            else:
                state.tops[incident_id] = ranked.root_causes[0].node
            out.append(ranked)
        return state, out

    def rank(self, snapshot: IncidentSnapshot, incumbent: str | None = None) -> Incident:
        """The snapshot's incident with ``root_causes`` (best first) and ``summary`` filled in.

        ``incumbent``, the top cause named so far, stays first unless the best candidate
        scores ``hysteresis`` above it."""
        view = build_view(snapshot)
        ranked = score_candidates(view, snapshot.changes, WEIGHT_SETS[self.weights])
        kept = self._keep_incumbent(ranked, incumbent, view)
        causes = self._causes(kept, view)
        if kept is not ranked:  # the evidence says why the top cause did not change
            lead = ranked[0]
            note = (
                f"kept as top cause: {lead.node} scores only {lead.score - kept[0].score:.3f}"
                f" higher (needs {self.hysteresis:.3f} to replace it)"
            )
            top = causes[0]
            causes = (dataclasses.replace(top, evidence=(*top.evidence, note)), *causes[1:])
            ranked = kept
        return dataclasses.replace(
            snapshot.incident, root_causes=causes, summary=summarize(ranked, view)
        )

    def _keep_incumbent(
        self, ranked: list[Candidate], incumbent: str | None, view: IncidentView
    ) -> list[Candidate]:
        """``ranked`` with ``incumbent`` moved back to the front unless the leader beats it by
        ``hysteresis`` (or it has lost its support: see ``is_unsupported``)."""
        held = next((i for i, c in enumerate(ranked) if c.node == incumbent), None)
        if not held or ranked[0].score - ranked[held].score >= self.hysteresis:
            return ranked
        if is_unsupported(view, ranked[held]):
            return ranked
        return [ranked[held], *ranked[:held], *ranked[held + 1 :]]

    def _causes(self, ranked: list[Candidate], view: IncidentView) -> tuple[RootCause, ...]:
        if not ranked:
            return ()
        shown, cap = [], math.inf  # a cause never shows a higher score than one ranked above it
        for c in ranked:
            cap = min(cap, c.score)
            shown.append(cap)
        weights = [math.exp((s - shown[0]) / self.temperature) for s in shown]
        total = sum(weights)
        return tuple(
            RootCause(c.node, round(w / total, 4), _kind_of(c, view), describe(c, view))
            for c, w in zip(ranked[: self.max_causes], weights, strict=False)
        )


def _kind_of(cand: Candidate, view: IncidentView) -> str:
    if cand.change is not None and cand.node not in view.signals:
        return "change"
    return cand.kind if cand.kind in ("service", "host", "model", "datastore") else "service"


def _example_snapshots() -> list[IncidentSnapshot]:
    from engine.correlate.grouping import Correlator
    from testing.examples import EXAMPLE_EDGES, EXAMPLE_NODES, example_stream

    op = Correlator(nodes=EXAMPLE_NODES, edges=EXAMPLE_EDGES)
    _, snapshots = op.process(op.initial_state(), example_stream(), now=T0 + 9000)
    return snapshots


register_example(OperatorExample("rank", CauseRanker, _example_snapshots, RankState, now=T0))
