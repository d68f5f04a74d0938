"""CauseRanker: incident snapshots -> incidents with ranked root causes, evidence and a summary.

Stateless: each snapshot carries its members and topology neighbourhood, so ranking needs no
global state. Scores are a softmax over the candidates' feature scores (they sum to at most 1
over the reported causes; higher is more probable).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

from engine.events import EventTime, Incident, IncidentSnapshot, RootCause
from engine.operator import NullState, OperatorExample, register_example
from engine.rank.evidence import describe, summarize
from engine.rank.scoring import Candidate, score_candidates
from engine.rank.signals import IncidentView, build_view
from engine.rank.weights import HAND_WEIGHTS, LEARNED_WEIGHTS
from engine.rules import RuleSet
from engine.testing import T0

WEIGHT_SETS = {"learned": LEARNED_WEIGHTS, "hand": HAND_WEIGHTS}


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
    >>> _, [out] = CauseRanker().process(CauseRanker().initial_state(), [snap], now=120.0)
    >>> [(c.node, round(c.score, 2)) for c in out.root_causes]
    [('db', 0.79), ('web', 0.21)]
    >>> out.root_causes[0].evidence[:2]
    ('earliest onset among 2 anomalous nodes', '1 of 2 anomalous nodes depend on it (web)')
    """

    max_causes: int = 5
    temperature: float = 0.1
    weights: str = "learned"
    """Which feature weights score candidates: ``"learned"`` or ``"hand"`` (see weights.py)."""
    name: str = "rank"

    def __post_init__(self) -> None:
        if self.max_causes < 1:
            raise ValueError(f"max_causes must be >= 1, got {self.max_causes}")
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")
        if self.weights not in WEIGHT_SETS:
            raise ValueError(f"weights must be one of {sorted(WEIGHT_SETS)}, got {self.weights!r}")

    @classmethod
    def from_rules(cls, rules: RuleSet) -> CauseRanker:
        return cls()

    def initial_state(self) -> NullState:
        return NullState()

    def process(
        self, state: NullState, batch: Sequence[IncidentSnapshot], *, now: EventTime
    ) -> tuple[NullState, list[Incident]]:
        """One ranked ``Incident`` per snapshot, in order."""
        return state, [self.rank(snap) for snap in batch]

    def rank(self, snapshot: IncidentSnapshot) -> Incident:
        """The snapshot's incident with ``root_causes`` (best first) and ``summary`` filled in."""
        view = build_view(snapshot)
        ranked = score_candidates(view, snapshot.changes, WEIGHT_SETS[self.weights])
        causes = self._causes(ranked, view)
        return dataclasses.replace(
            snapshot.incident, root_causes=causes, summary=summarize(ranked, view)
        )

    def _causes(self, ranked: list[Candidate], view: IncidentView) -> tuple[RootCause, ...]:
        if not ranked:
            return ()
        top = ranked[0].score
        weights = [math.exp((c.score - top) / self.temperature) for c in ranked]
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
    from engine.correlate.example import EXAMPLE_EDGES, EXAMPLE_NODES, example_stream
    from engine.correlate.grouping import Correlator

    op = Correlator(nodes=EXAMPLE_NODES, edges=EXAMPLE_EDGES)
    _, snapshots = op.process(op.initial_state(), example_stream(), now=T0 + 9000)
    return snapshots


register_example(OperatorExample("rank", CauseRanker, _example_snapshots, NullState, now=T0))
