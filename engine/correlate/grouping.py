"""Correlator: anomalies and alerts -> incidents, grouped by topology, time and shared labels.

A member (anomaly or newly firing alert) joins the open incident whose last activity is within
``window_s`` and which already holds its node, or holds a node related to it on the topology
(a chain of dependencies within ``max_hops``, a shared host or a shared callee) that is still
active (a member within ``link_s``); alerts naming no node join an incident holding the same
alert name and cluster. A member related to several incidents merges them into the oldest once
both ends of the link persist: its node's members and a related node's in the other incident
each span ``merge_after_s`` (a passing blip or a lone warning joins one and links nothing).
Incidents resolve after ``quiet_s`` without activity.

Snapshots are emitted per event time: all events with the same ``ts`` are applied, then every
incident that opened or changed (new node, new alert, higher severity, merge, new change)
is emitted once, when event time moves on (a later event, or ``now`` at or past it). An
incident is announced only once confirmed (see ``engine.correlate.confirmation``); a candidate
that never is comes out once, resolved, labelled ``noise`` (accounted for, never paged).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.correlate.alerts import AlertPolicy, Verdict, forget_alerts, observe_alert
from engine.correlate.confirmation import ConfirmPolicy, is_confirmed
from engine.correlate.example import EXAMPLE_EDGES, EXAMPLE_NODES, example_stream
from engine.correlate.incidents import IncidentRecord
from engine.correlate.records import alert_to_dict, change_to_dict
from engine.correlate.state import CorrelateState
from engine.correlate.topology import Topology
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
    stable_id,
)
from engine.operator import OperatorExample, register_example
from engine.rules import RuleSet
from engine.testing import T0

CorrelateInput = Anomaly | Alert | Change | TopologyUpdate


@dataclass(frozen=True, slots=True)
class Correlator:
    """Groups anomalies and alerts into incidents on the live topology; see the module doc.

    Updates ``state`` in place (and returns it). Outputs are ``IncidentSnapshot``s, one per
    incident that opened, changed or resolved, with ``revision`` counting up per incident.
    An incident opens only once confirmed (``confirm_s``, ``confirm_nodes``; see
    ``engine.correlate.confirmation``); one that never is comes out once, resolved, as noise.

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
    name: str = "correlate"

    def __post_init__(self) -> None:
        durations = ("window_s", "quiet_s", "change_lookback_s", "forget_after_s", "alert_ttl_s")
        for key in (*durations, "confirm_s", "merge_after_s", "link_s"):
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
            window_s=c.window_s,
            quiet_s=c.quiet_s,
            max_hops=c.max_hops,
            change_lookback_s=c.change_lookback_s,
            forget_after_s=c.forget_after_s,
            alert_ttl_s=c.alert_ttl_s,
            flap_window_s=c.flap_window_s,
            flap_transitions=c.flap_transitions,
            max_anomalies_per_node=c.max_anomalies_per_node,
            confirm_s=c.confirm_s,
            confirm_nodes=c.confirm_nodes,
            merge_after_s=c.merge_after_s,
            link_s=c.link_s,
        )

    @property
    def alert_policy(self) -> AlertPolicy:
        return AlertPolicy(self.flap_window_s, self.flap_transitions, self.alert_ttl_s)

    @property
    def confirm_policy(self) -> ConfirmPolicy:
        return ConfirmPolicy(
            self.confirm_s, self.confirm_nodes, self.flap_window_s, self.flap_transitions
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
        for record in state.incidents.values():
            if record.is_open and not record.confirmed:
                record.confirmed = is_confirmed(record, state.alerts, ts, policy)
                record.dirty = record.dirty or record.confirmed
            if record.is_open and record.dirty and record.confirmed:
                status = IncidentStatus.UPDATED if record.announced else IncidentStatus.OPEN
                out.append(self._emit(state, record, status))
        for record in state.incidents.values():
            if record.is_open and ts - record.last_ts > self.quiet_s:
                record.resolved_at = record.last_ts + self.quiet_s
                out.append(self._emit(state, record, IncidentStatus.RESOLVED))
        for key in [k for k, r in state.incidents.items() if _forgettable(r, ts, self)]:
            for member in state.incidents.pop(key).members:
                for name in {member, _alert_of(member)}:
                    if state.member_of.get(name) == key:
                        del state.member_of[name]
        forget_alerts(state.alerts, ts, self.alert_policy)
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
        return record.snapshot(status, nodes, edges)

    # -- events ------------------------------------------------------------------------------

    def _apply(
        self, state: CorrelateState, event: CorrelateInput, out: list[IncidentSnapshot]
    ) -> None:
        if isinstance(event, TopologyUpdate):
            state.topology.apply(event)
        elif isinstance(event, Change):
            self._apply_change(state, event)
        elif isinstance(event, Anomaly):
            if event.id not in state.member_of:
                record = self._place(state, event.node, event.ts, None, out)
                record.add_anomaly(event, self.max_anomalies_per_node)
                member = Member(event.id, event.node, event.ts, event.severity.rank)
                _join(state, record, member)
        else:
            self._apply_alert(state, event, out)

    def _apply_change(self, state: CorrelateState, change: Change) -> None:
        state.changes.append(change_to_dict(change))
        for record in state.incidents.values():
            if record.is_open and change.service in record.nodes:
                record.dirty = True

    def _apply_alert(
        self, state: CorrelateState, alert: Alert, out: list[IncidentSnapshot]
    ) -> None:
        verdict = observe_alert(state.alerts, alert, self.alert_policy)
        owner = state.incidents.get(state.member_of.get(alert.id, ""))
        if owner is not None and owner.is_open:
            if verdict is Verdict.RESOLVED:
                owner.alerts[alert.fingerprint] = alert_to_dict(alert)
            elif verdict in (Verdict.NEW, Verdict.REFRESH):
                owner.last_ts = max(owner.last_ts, alert.ts)
            return
        if verdict is not Verdict.NEW:
            return
        node = node_of(alert.labels)
        if node is not None:
            kind = "host" if node == alert.labels.get("host") else "service"
            state.topology.ensure_node(node, kind)
        record = self._place(state, node, alert.ts, alert, out)
        record.add_alert(alert)
        # a later firing episode of the same fingerprint is a new member with its own id
        first = state.alerts[alert.fingerprint]["first_ts"] == alert.ts
        member_id = alert.id if first else f"{alert.id}@{alert.ts:.0f}"
        _join(state, record, Member(member_id, node, alert.ts, alert.severity.rank))
        state.member_of[alert.id] = record.id  # later events of the alert find its episode

    # -- grouping ----------------------------------------------------------------------------

    def _place(
        self,
        state: CorrelateState,
        node: str | None,
        ts: EventTime,
        alert: Alert | None,
        out: list[IncidentSnapshot],
    ) -> IncidentRecord:
        """The incident a new member at ``node`` joins: an open related one, merged, or new."""
        if node is not None:
            state.topology.ensure_node(node)
            related = state.topology.related_nodes(node, self.max_hops)
        candidates = [
            r
            for r in state.incidents.values()
            if r.is_open
            and ts - r.last_ts <= self.window_s
            and (self._links(r, node, related, ts) if node is not None else _same_alert(r, alert))
        ]
        if not candidates:
            member = alert.id if alert is not None else node
            record = IncidentRecord(stable_id("inc", member, ts), opened_at=ts, last_ts=ts)
            state.incidents[record.id] = record
            return record
        if node is not None and len(candidates) > 1:
            candidates = self._connected(state, candidates, node, ts)
        # an announced incident keeps its id (and its page); else the oldest candidate wins
        target = min(candidates, key=_seniority)
        for other in candidates:
            if other is not target:
                self._merge(state, target, other, ts, out)
        return target

    def _links(self, record: IncidentRecord, node: str, related: set[str], ts: EventTime) -> bool:
        """Whether a member at ``node`` belongs with ``record``: its node is already in it, or
        a related node of it is still active (a member within ``link_s``). A symptom shows
        while its cause is still misbehaving; a node going bad next to neighbours that went
        quiet (a finished blip, a fault that is over) is a separate problem."""
        if node in record.spans:
            return True
        if not record.spans:  # records from version-1 state carry no spans
            return any(n in related for n in record.nodes)
        return any(
            n in related and ts - last <= self.link_s for n, (_, last, _) in record.spans.items()
        )

    def _connected(
        self, state: CorrelateState, candidates: list[IncidentRecord], node: str, ts: EventTime
    ) -> list[IncidentRecord]:
        """The candidates a member at ``node`` proves connected, home first.

        Home is the incident already holding ``node`` (else the senior candidate). Another
        candidate is connected only when both ends of the link persist: ``node``'s members
        span ``merge_after_s`` (this one included), and so do those of a related node in it.
        A passing blip or a lone warning on either side joins one incident and links nothing.
        Two incidents whose nodes only share a dependency (callee or host) stay apart unless
        that dependency is itself a member of one of them: two callers of a healthy shared
        callee going bad separately are two problems.
        """
        home = next((r for r in candidates if node in r.spans), min(candidates, key=_seniority))
        first = home.spans[node][0] if node in home.spans else ts
        if ts - first < self.merge_after_s:
            return [home]
        connected = [home]
        for r in candidates:
            if r is home:
                continue
            if not r.spans:  # records from version-1 state carry no spans
                connected.append(r)
                continue
            via = home.spans.keys() | r.spans.keys()
            related = state.topology.related_nodes(node, self.max_hops, via)
            spans = r.spans.items()
            if any(n in related and b - a >= self.merge_after_s for n, (a, b, _) in spans):
                connected.append(r)
        return connected

    def _merge(
        self,
        state: CorrelateState,
        target: IncidentRecord,
        other: IncidentRecord,
        ts: EventTime,
        out: list[IncidentSnapshot],
    ) -> None:
        for member in other.members:
            for name in {member, _alert_of(member)}:
                if state.member_of.get(name) == other.id:
                    state.member_of[name] = target.id
        target.absorb(other, self.max_anomalies_per_node)
        target.dirty = True
        other.merged_into, other.resolved_at = target.id, ts
        if other.announced:
            out.append(self._emit(state, other, IncidentStatus.RESOLVED))


@dataclass(frozen=True, slots=True)
class Member:
    """A new incident member: an anomaly id (``an-…``) or an alert id (``am-<fingerprint>``)."""

    id: str
    node: str | None
    ts: EventTime
    severity_rank: int


def _join(state: CorrelateState, record: IncidentRecord, member: Member) -> None:
    record.members.append(member.id)
    state.member_of[member.id] = record.id
    record.note_member(member.node, member.ts)
    new_node = member.node is not None and record.add_node(member.node)
    is_alert = member.id.startswith("am-")
    if new_node or is_alert or member.severity_rank > record.severity or not record.announced:
        record.dirty = True
    record.severity = max(record.severity, member.severity_rank)
    record.last_ts = max(record.last_ts, member.ts)


def _seniority(record: IncidentRecord) -> tuple[bool, EventTime, str]:
    return (not record.announced, record.opened_at, record.id)


def _alert_of(member: str) -> str:
    """The alert id behind a member id (``am-<fp>@<ts>`` for a later firing episode)."""
    return member.split("@", 1)[0]


def _same_alert(record: IncidentRecord, alert: Alert | None) -> bool:
    if alert is None:
        return False
    cluster = alert.labels.get("cluster")
    return any(
        a["name"] == alert.name and a["labels"].get("cluster") == cluster
        for a in record.alerts.values()
    )


def _forgettable(record: IncidentRecord, ts: EventTime, op: Correlator) -> bool:
    return record.resolved_at is not None and ts - record.resolved_at > op.forget_after_s


def _example_correlator() -> Correlator:
    return Correlator(nodes=EXAMPLE_NODES, edges=EXAMPLE_EDGES)


register_example(
    OperatorExample("correlate", _example_correlator, example_stream, CorrelateState, now=T0 - 1)
)
