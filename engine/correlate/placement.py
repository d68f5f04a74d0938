"""Where a new incident member goes: an open related incident, several merged, or a new one.

The rules are those of ``engine.correlate.grouping`` (see its module doc): a member joins an
open incident active within ``window_s`` that holds its node or a related node still active
(within ``link_s``), or, for windowed evidence, a dependency active during its window; a member
related to several incidents merges them once both ends of the link persist (``merge_after_s``).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.correlate.incidents import IncidentRecord
from engine.correlate.state import CorrelateState
from engine.events import Alert, Anomaly, EventTime, stable_id

GROWTH_REPORTS = 16
"""Beyond ``Correlator.full_report_members``: records per doubling of members from new alerts."""


@dataclass(frozen=True, slots=True)
class Member:
    """A new incident member: an anomaly id (``an-…``) or an alert id (``am-<fingerprint>``)."""

    id: str
    node: str | None
    ts: EventTime
    severity_rank: int


@dataclass(frozen=True, slots=True)
class Placement:
    """The correlator's grouping settings, applied to one new member at a time."""

    window_s: float
    max_hops: int
    link_s: float
    merge_after_s: float
    max_anomalies_per_node: int
    max_span_s: float = 3600.0

    def place(
        self,
        state: CorrelateState,
        node: str | None,
        ts: EventTime,
        *,
        alert: Alert | None = None,
        since: EventTime | None = None,
    ) -> tuple[IncidentRecord, list[IncidentRecord]]:
        """The incident a new member at ``node`` joins: an open related one, merged, or new.

        ``since`` (windowed evidence, see ``evidence_start``) is when the member's evidence
        began: it also links to an incident whose activity on one of ``node``'s dependencies
        falls within that window. Also returns the announced incidents merged into it, in
        merge order: the caller announces each of them resolved."""
        start = ts if since is None else min(since, ts)
        candidates = self._candidates(state, node, ts, start, alert)
        if not candidates:
            member = alert.id if alert is not None else node
            record = IncidentRecord(stable_id("inc", member, ts), opened_at=ts, last_ts=ts)
            state.incidents[record.id] = record
            return record, []
        if node is not None and len(candidates) > 1:
            if any(self._sealed(r, ts) for r in candidates):  # a sealed incident merges nothing
                candidates = [next(r for r in candidates if self._continues(r, node, ts))]
            else:
                candidates = self._connected(state, candidates, node, ts)
        # an announced incident keeps its id (and its page); else the oldest candidate wins
        target = min(candidates, key=_seniority)
        merged = [other for other in candidates if other is not target]
        for other in merged:
            self._merge(state, target, other, ts)
        return target, [other for other in merged if other.announced]

    def joins(self, state: CorrelateState, node: str, ts: EventTime) -> bool:
        """Whether a member at ``node`` would join an open incident (rather than open one)."""
        return bool(self._candidates(state, node, ts, ts, None))

    def _candidates(
        self,
        state: CorrelateState,
        node: str | None,
        ts: EventTime,
        start: EventTime,
        alert: Alert | None,
    ) -> list[IncidentRecord]:
        """The open incidents a member at ``node`` (evidence from ``start``) relates to."""
        if node is not None:
            state.topology.ensure_node(node)
            related = state.topology.related_nodes(node, self.max_hops)
            upstream = state.topology.dependencies(node, self.max_hops) if start < ts else set()
        return [
            r
            for r in state.incidents.values()
            if r.is_open
            and (start - r.last_ts <= self.window_s or self._alert_alive(r, alert, ts))
            and (
                self._links(state, r, node, related, ts, alert is not None)
                or self._feeds(r, upstream, start)
                if node is not None
                else _same_alert(r, alert)
            )
        ]

    def _links(
        self,
        state: CorrelateState,
        record: IncidentRecord,
        node: str,
        related: set[str],
        ts: EventTime,
        alert: bool,
    ) -> bool:
        """Whether a member at ``node`` belongs with ``record``: its node is already in it, or
        a related node of it is still active (a member within ``link_s``; for a new alert
        also an error or critical alert member on it still firing). A symptom shows while its
        cause is still misbehaving; a node going bad next to neighbours that went quiet (a
        finished blip, a fault that is over) is a separate problem.

        Related through the incident (``_Through``): a shared dependency (host, callee) and
        the middle node of a two-hop chain must be one of the incident's nodes, or a node
        never observed (no telemetry: its silence says nothing, e.g. an unobserved root
        behind its callers). Two services on one healthy host, or behind one healthy callee,
        going bad minutes apart are two problems; linking them let stray anomalies next to
        a fault bridge a second, unrelated fault into its incident (e2e tuned-on purity
        0.86 -> 0.93, held-out 0.85 -> 0.88, with the two-hop chain rule). (Letting a still-firing
        alert link anomalies too lowered purity on the e2e tuned-on streams, 0.72 -> 0.61;
        letting warnings link alerts lowered benchmarks.rca purity, 0.967 -> 0.960: a lasting
        unrelated warning next to a fault absorbed the fault's alerts.)

        Bounded span: an incident open longer than ``max_span_s`` is *sealed*: members at
        its nodes still join it, nothing else does (a long-lived incident does not absorb
        unrelated activity for hours) and it merges with nothing."""
        if self._continues(record, node, ts):
            return True
        if not record.spans:  # records from version-1 state carry no spans
            return any(n in related for n in record.nodes)
        if self._sealed(record, ts):
            return False
        related = state.topology.related_nodes(node, self.max_hops, _Through(state, record))
        return any(
            n in related and (ts - last <= self.link_s or (alert and record.loud_firing(n)))
            for n, (_, last, _) in record.spans.items()
        )

    def _alert_alive(self, record: IncidentRecord, alert: Alert | None, ts: EventTime) -> bool:
        """Whether a new alert may join ``record`` although its last member is older than
        ``window_s``: one of its error or critical alerts still fires, and it is not sealed
        (an incident open for hours does not absorb later faults on its nodes)."""
        if alert is None or self._sealed(record, ts):
            return False
        return any(record.loud_firing(n) for n in record.firing)

    def _continues(self, record: IncidentRecord, node: str, ts: EventTime) -> bool:
        """Whether a member at ``node`` continues ``record`` (its node is already in it).

        A stricter split by time (only members at most ``window_s`` after the node's last)
        was measured on the e2e held-out streams and split faults more often (groups per
        incident up) without raising purity; it was not kept."""
        return node in record.spans

    def _sealed(self, record: IncidentRecord, ts: EventTime) -> bool:
        return self.max_span_s > 0 and ts - record.opened_at > self.max_span_s

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

    def _feeds(self, record: IncidentRecord, upstream: set[str], start: EventTime) -> bool:
        """Whether a dependency of a windowed member's node was active in ``record`` during
        the member's evidence window (from ``start``): a model's drift over the last hour can
        come from a data outage anywhere in that hour on what feeds it."""
        return any(
            n in upstream and last >= start - self.link_s
            for n, (_, last, _) in record.spans.items()
        )

    def _merge(
        self, state: CorrelateState, target: IncidentRecord, other: IncidentRecord, ts: EventTime
    ) -> None:
        for member in other.members:
            for name in {member, alert_of(member)}:
                if state.member_of.get(name) == other.id:
                    state.member_of[name] = target.id
        target.absorb(other, self.max_anomalies_per_node)
        target.dirty = True
        other.merged_into, other.resolved_at = target.id, ts


class _Through:
    """The nodes a link may pass through for ``record`` (see ``Placement._links``): its own
    nodes, and nodes never observed (no telemetry mark, anomaly, hold or alert)."""

    __slots__ = ("_record", "_topology")

    def __init__(self, state: CorrelateState, record: IncidentRecord) -> None:
        self._record, self._topology = record, state.topology

    def __contains__(self, node: object) -> bool:
        if node in self._record.spans:
            return True
        return isinstance(node, str) and not self._topology.is_observed(node)


def join(state: CorrelateState, record: IncidentRecord, member: Member, full_report: int) -> None:
    """Add ``member`` to ``record``; the record turns dirty when the member changes it (an
    alert on a node it holds: see ``reports_growth``)."""
    record.members.append(member.id)
    state.member_of[member.id] = record.id
    record.note_member(member.node, member.ts)
    new_node = member.node is not None and record.add_node(member.node)
    is_alert = member.id.startswith("am-") and reports_growth(len(record.members), full_report)
    if new_node or is_alert or member.severity_rank > record.severity or not record.announced:
        record.dirty = True
    record.severity = max(record.severity, member.severity_rank)
    record.last_ts = max(record.last_ts, member.ts)


def reports_growth(members: int, full_report: int) -> bool:
    """Whether a new alert that brings an incident to ``members`` members, on a node it
    already holds, is worth a new record by itself: every one up to ``full_report`` members,
    then about one per ``1/GROWTH_REPORTS`` of growth (one in 16 alerts from 257 members, one
    in 32 from 512, ...). Each record lists every member, so re-emitting a huge incident per alert
    made the stage quadratic; this keeps its cost per alert flat. A member that does not mark
    the incident dirty is still in the next record (and always in the last, ``resolved``);
    a new node, a higher severity or a merge still marks it dirty at once.

    >>> [n for n in range(250, 300) if reports_growth(n, 256)]
    [250, 251, 252, 253, 254, 255, 256, 272, 288]
    """
    if members <= full_report:
        return True
    return members % (1 << (members.bit_length() - GROWTH_REPORTS.bit_length())) == 0


def evidence_start(anomaly: Anomaly) -> EventTime | None:
    """When a windowed anomaly's evidence began: ``detail["window"][0]`` for the ML
    monitor's drift checks (a statistic over ``[start, end]``, reported at ``end``), else None.

    >>> from engine.events import AnomalyKind, Severity
    >>> drift = Anomaly("an-1", 7200.0, AnomalyKind.DATA_DRIFT, "fraud", {}, 1.0,
    ...                 Severity.WARNING, {"window": [3600.0, 7200.0]})
    >>> evidence_start(drift)
    3600.0
    """
    window = anomaly.detail.get("window")
    if not isinstance(window, list) or len(window) != 2:
        return None
    start = window[0]
    if isinstance(start, bool) or not isinstance(start, int | float):
        return None
    return float(start)


def alert_of(member: str) -> str:
    """The alert id behind a member id (``am-<fp>@<ts>`` for a later firing episode)."""
    return member.split("@", 1)[0]


def _seniority(record: IncidentRecord) -> tuple[bool, EventTime, str]:
    return (not record.announced, record.opened_at, record.id)


def _same_alert(record: IncidentRecord, alert: Alert | None) -> bool:
    if alert is None:
        return False
    cluster = alert.labels.get("cluster")
    return any(
        a["name"] == alert.name and a["labels"].get("cluster") == cluster
        for a in record.alerts.values()
    )
