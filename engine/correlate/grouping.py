"""Correlator: anomalies and alerts -> incidents, grouped by topology, time and shared labels.

A member (anomaly or newly firing alert) joins the open incident whose last activity is within
``window_s`` and which already holds its node, or holds a node related to it on the topology
(a chain of dependencies within ``max_hops``, a shared host or a shared callee) that is still
active (a member within ``link_s``). The link runs through the incident: a shared host or
callee, and the middle node of a longer chain, is one of its nodes or a node never observed
(no telemetry: no metric point or log line, anomaly, hold or alert; see
``Placement._links``). A windowed anomaly (the ML monitor's drift checks: a statistic over
an hour, reported at its end) also joins an incident in which a node it depends on
was active during that window, so a model's drift lands in the upstream data outage's incident
(see ``evidence_start``); alerts naming no node join an incident holding the same
alert name and cluster. A member related to several incidents merges them into the oldest once
both ends of the link persist: its node's members and a related node's in the other incident
each span ``merge_after_s`` (a passing blip or a lone warning joins one and links nothing).
Incidents resolve after ``quiet_s`` without activity unless a recovery-watch hold or a firing
alert member keeps them open (``engine.correlate.lifecycle``). Placing one member (join, merge
or open) is ``engine.correlate.placement``; this module applies events and emits snapshots.

Snapshots are emitted per event time: all events with the same ``ts`` are applied, then every
incident that opened or changed (new node, new alert, higher severity, merge, new change)
is emitted once, when event time moves on (a later event, or ``now`` at or past it). Every
record lists all members, so past ``full_report_members`` an alert on a node the incident
already holds re-emits it only once per 1/16 of growth (``placement.reports_growth``): the
next record, and always the last, still lists it. An incident is announced only once confirmed
(``engine.correlate.confirmation``); a candidate that never is comes out once, resolved,
labelled ``noise`` (accounted for, never paged).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from engine.correlate.alerts import (
    AlertPolicy,
    Verdict,
    forget_alerts,
    observe_alert,
)
from engine.correlate.confirmation import ConfirmPolicy, is_confirmed
from engine.correlate.incidents import IncidentRecord
from engine.correlate.lifecycle import (
    apply_hold,
    corroborates_only,
    follow_alert,
    forget_incidents,
    resolution,
)
from engine.correlate.placement import Member, Placement, evidence_start, join
from engine.correlate.recovery import is_hold
from engine.correlate.state import CorrelateState
from engine.correlate.topology import Topology
from engine.detect.telemetry import is_telemetry
from engine.events import (
    Alert,
    Anomaly,
    Change,
    EventTime,
    IncidentSnapshot,
    IncidentStatus,
    TopologyEdge,
    TopologyNode,
    TopologyUpdate,
    node_of,
)
from engine.operator import OperatorExample, register_example
from engine.rules import RuleSet
from engine.testing import T0

CorrelateInput = Anomaly | Alert | Change | TopologyUpdate

_RULE_KEYS = (  # the correlation rule keys that are this operator's fields of the same name
    "window_s", "quiet_s", "max_hops", "change_lookback_s", "forget_after_s", "alert_ttl_s",
    "flap_window_s", "flap_transitions", "max_anomalies_per_node", "confirm_s", "confirm_nodes",
    "merge_after_s", "link_s", "max_span_s")

__all__ = ["CorrelateInput", "CorrelateState", "Correlator", "evidence_start"]


@dataclass(frozen=True, slots=True)
class Correlator:
    """Groups anomalies and alerts into incidents on the live topology; see the module doc.

    Updates ``state`` in place (and returns it). Outputs are ``IncidentSnapshot``s, one per
    incident that opened, changed or resolved, with ``revision`` counting up per incident.

    Examples
    --------
    >>> from engine.events import AnomalyKind, Severity
    >>> def an(node, ts):
    ...     return Anomaly(f"an-{node}-{ts}", ts, AnomalyKind.METRIC, node, {}, 0.99,
    ...                    Severity.WARNING)
    >>> op = Correlator(nodes=(TopologyNode("web"), TopologyNode("db"), TopologyNode("mail")),
    ...                 edges=(TopologyEdge("web", "db"),), quiet_s=300)
    >>> events = [an("db", 0), an("db", 60), an("web", 60), an("mail", 60), an("web", 120)]
    >>> state, out = op.process(op.initial_state(), events, now=120)
    >>> [(s.incident.status.value, s.incident.nodes, s.incident.revision) for s in out]
    [('open', ('db', 'web'), 1)]
    >>> state, out = op.process(state, [], now=500)
    >>> [(s.incident.status.value, s.incident.alerts, s.incident.labels) for s in out]
    [('resolved', ('an-db-0', 'an-db-60', 'an-web-60', 'an-web-120'), {}), \
('resolved', ('an-mail-60',), {'noise': 'true'})]
    """

    nodes: tuple[TopologyNode, ...] = ()
    edges: tuple[TopologyEdge, ...] = ()
    window_s: float = 600.0
    quiet_s: float = 900.0
    max_hops: int = 2
    change_lookback_s: float = 1800.0
    forget_after_s: float = 3600.0
    alert_ttl_s: float = 86400.0
    flap_window_s: float = 1800.0
    flap_transitions: int = 4
    max_anomalies_per_node: int = 8
    confirm_s: float = 300.0
    confirm_nodes: int = 2
    merge_after_s: float = 180.0
    link_s: float = 180.0
    max_span_s: float = 3600.0
    full_report_members: int = 256
    """Every new alert re-emits an incident up to this many members, then one record per
    1/16 of growth (``engine.correlate.placement.reports_growth``): records list all members."""
    name: str = "correlate"

    def __post_init__(self) -> None:
        durations = ("window_s", "quiet_s", "change_lookback_s", "forget_after_s", "alert_ttl_s")
        for key in (*durations, "confirm_s", "merge_after_s", "link_s", "max_span_s"):
            if getattr(self, key) < 0:
                raise ValueError(f"{key} must be >= 0, got {getattr(self, key)}")
        if not 0 <= self.max_hops <= 4:
            raise ValueError(f"max_hops must be in [0, 4], got {self.max_hops}")
        if self.flap_transitions < 2 or self.max_anomalies_per_node < 1:
            raise ValueError("flap_transitions must be >= 2 and max_anomalies_per_node >= 1")
        if self.confirm_nodes < 1:
            raise ValueError(f"confirm_nodes must be >= 1, got {self.confirm_nodes}")

    @classmethod
    def from_rules(cls, rules: RuleSet) -> Correlator:
        c, t = rules.correlation, rules.topology
        return cls(
            nodes=tuple(TopologyNode(n.id, n.kind) for n in t.nodes),
            edges=tuple(TopologyEdge(e.source, e.target, e.kind) for e in t.edges),
            **{key: getattr(c, key) for key in _RULE_KEYS},
        )

    @property
    def alert_policy(self) -> AlertPolicy:
        return AlertPolicy(self.flap_window_s, self.flap_transitions, self.alert_ttl_s)

    @property
    def confirm_policy(self) -> ConfirmPolicy:
        return ConfirmPolicy(
            self.confirm_s, self.confirm_nodes, self.flap_window_s, self.flap_transitions
        )

    @property
    def placement(self) -> Placement:
        return Placement(
            self.window_s,
            self.max_hops,
            self.link_s,
            self.merge_after_s,
            self.max_anomalies_per_node,
            self.max_span_s,
        )

    def initial_state(self) -> CorrelateState:
        return CorrelateState(topology=Topology.build(self.nodes, self.edges))

    def process(
        self, state: CorrelateState, batch: Sequence[CorrelateInput], *, now: EventTime
    ) -> tuple[CorrelateState, list[IncidentSnapshot]]:
        """Apply ``batch`` (sorted by ts) in order; emit snapshots as event time advances."""
        out: list[IncidentSnapshot] = []
        for event in batch:
            if state.clock is None or event.ts > state.clock:
                self._advance(state, event.ts, out)
            self._apply(state, event, out)
        if state.clock is not None and now >= state.clock:
            self._advance(state, now, out)
        return state, out

    # -- time --------------------------------------------------------------------------------

    def _advance(self, state: CorrelateState, ts: EventTime, out: list[IncidentSnapshot]) -> None:
        """Flush changed confirmed incidents, resolve quiet ones (an unconfirmed one is emitted
        once, resolved, as noise), forget old ones; the clock moves to ``ts``."""
        policy = self.confirm_policy
        forget_alerts(state.alerts, ts, self.alert_policy)  # a forgotten alert fires no more
        for record in state.incidents.values():
            if record.is_open and not record.confirmed:
                record.confirmed = is_confirmed(record, state.alerts, ts, policy)
                record.dirty = record.dirty or record.confirmed
            if record.is_open and record.dirty and record.confirmed:
                status = IncidentStatus.UPDATED if record.announced else IncidentStatus.OPEN
                out.append(self._emit(state, record, status))
        for record in state.incidents.values():
            if not record.is_open:
                continue
            resolved_at = resolution(state, record, ts, self.quiet_s, self.confirm_s)
            if resolved_at is not None:
                record.resolved_at = resolved_at
                out.append(self._emit(state, record, IncidentStatus.RESOLVED))
        forget_incidents(state, ts, self.forget_after_s)
        state.changes = [c for c in state.changes if ts - c["ts"] <= self.change_lookback_s]
        state.clock = ts if state.clock is None else max(state.clock, ts)

    def _emit(
        self, state: CorrelateState, record: IncidentRecord, status: IncidentStatus
    ) -> IncidentSnapshot:
        record.announced = True
        nodes, edges = state.topology.neighbourhood(record.nodes, hops=2)
        names = {n.id for n in nodes}
        seen = {(c["ts"], c["service"], c["kind"]) for c in record.changes}
        record.changes.extend(
            c
            for c in state.changes
            if c["service"] in names
            and record.opened_at - self.change_lookback_s <= c["ts"] <= record.last_ts
            and (c["ts"], c["service"], c["kind"]) not in seen
        )
        observed = frozenset(n.id for n in nodes if state.topology.is_observed(n.id))
        return dataclasses.replace(record.snapshot(status, nodes, edges), observed=observed)

    # -- events ------------------------------------------------------------------------------

    def _apply(
        self, state: CorrelateState, event: CorrelateInput, out: list[IncidentSnapshot]
    ) -> None:
        if isinstance(event, TopologyUpdate):
            state.topology.apply(event)
        elif isinstance(event, Change):
            self._apply_change(state, event)
        elif isinstance(event, Anomaly) and is_hold(event):
            state.topology.observe(event.node)
            apply_hold(state, event)
        elif isinstance(event, Anomaly) and is_telemetry(event):
            state.topology.observe(event.node)
        elif isinstance(event, Anomaly):
            state.topology.observe(event.node)
            if corroborates_only(event) and not self.placement.joins(state, event.node, event.ts):
                return
            if event.id not in state.member_of:
                since = evidence_start(event)
                record, merged = self.placement.place(state, event.node, event.ts, since=since)
                self._announce_merged(state, merged, out)
                record.add_anomaly(event, self.max_anomalies_per_node)
                member = Member(event.id, event.node, event.ts, event.severity.rank)
                join(state, record, member, self.full_report_members)
        else:
            self._apply_alert(state, event, out)

    def _apply_change(self, state: CorrelateState, change: Change) -> None:
        state.changes.append(change.to_dict())
        for record in state.incidents.values():
            if record.is_open and change.service in record.nodes:
                record.dirty = True

    def _apply_alert(
        self, state: CorrelateState, alert: Alert, out: list[IncidentSnapshot]
    ) -> None:
        verdict = observe_alert(state.alerts, alert, self.alert_policy)
        owner = state.incidents.get(state.member_of.get(alert.id, ""))
        node = node_of(alert.labels)
        if owner is not None and owner.is_open:
            follow_alert(state, owner, alert, verdict, node)
            return
        if verdict is not Verdict.NEW:
            return
        if node is not None:
            kind = "host" if node == alert.labels.get("host") else "service"
            state.topology.observe(node, kind)
        record, merged = self.placement.place(state, node, alert.ts, alert=alert)
        self._announce_merged(state, merged, out)
        record.add_alert(alert)
        # a later firing episode of the same fingerprint is a new member with its own id
        first = state.alerts[alert.fingerprint].first_ts == alert.ts
        member_id = alert.id if first else f"{alert.id}@{alert.ts:.0f}"
        member = Member(member_id, node, alert.ts, alert.severity.rank)
        join(state, record, member, self.full_report_members)
        record.alert_fired(alert.fingerprint, node, alert.ts)
        state.member_of[alert.id] = record.id  # later events of the alert find its episode

    def _announce_merged(
        self, state: CorrelateState, merged: list[IncidentRecord], out: list[IncidentSnapshot]
    ) -> None:
        for other in merged:
            out.append(self._emit(state, other, IncidentStatus.RESOLVED))


def _example_correlator() -> Correlator:
    from testing.examples import EXAMPLE_EDGES, EXAMPLE_NODES
    return Correlator(nodes=EXAMPLE_NODES, edges=EXAMPLE_EDGES)


def _example_batch() -> list[Anomaly | Alert | Change | TopologyUpdate]:
    from testing.examples import example_stream
    return example_stream()


register_example(
    OperatorExample("correlate", _example_correlator, _example_batch, CorrelateState, now=T0 - 1)
)
