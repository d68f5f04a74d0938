"""Action planner: incidents in, decided actions out (who is told what, and when).

Each incident record is routed (``engine.act.routing``) to receivers; per (incident, receiver)
a ``Notice`` tracks the conversation. A new page waits ``group_wait`` (and ``flap_hold``) so
early updates fold into it and an incident resolving sooner is never paged; later material
changes (severity or top cause; see ``_digest``) go out at most every ``group_interval``; a
firing page is repeated every ``repeat_interval``; a resolve is held ``flap_hold`` so a
flapping incident is not re-paged. Inhibition and maintenance windows mute new pages (recorded
once as ``suppressed``). Silences are applied at delivery. With ``external_url`` set, every
action links to the incident's console page. Actions are only decided here; connectors
deliver them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from engine.act.inhibit import inhibitor_of
from engine.act.maintenance import active_window
from engine.act.notice import (
    LiveIncident,
    Notice,
    Said,
    after_sent,
    notice_key,
    on_firing,
    on_resolved,
    repeat_due,
)
from engine.act.planner_state import PlannerState
from engine.act.routing import incident_labels, match_routes
from engine.events import (
    Action,
    ActionStatus,
    EventTime,
    Incident,
    IncidentStatus,
    RootCause,
    Severity,
    stable_id,
)
from engine.operator import OperatorExample, register_example
from engine.rules.routing import RoutingRules

CLOSED_RETENTION_S = 7 * 86400.0
"""How long a finished conversation is remembered (so a reopen counts as a new occurrence)."""
MUTE_RECHECK_S = 60.0
"""A muted page (inhibited, or in a maintenance window) is checked again on each whole multiple
of this in event time (windows start and end on a minute) and at every incident record, so it
goes out at the same event time in any runtime."""


@dataclass(frozen=True, slots=True)
class ActionPlanner:
    """Decide notifications for incident records; outputs are ``Action``s with status decided.

    Updates ``state`` in place and returns it. Time only moves with event time: a record is
    taken in at its ``updated_at`` and each action goes out at its due time, so batching and
    how ``now`` advances change when an action is emitted, never its id or ``ts``.

    Examples
    --------
    >>> from engine.rules.routing import RoutingRules
    >>> planner = ActionPlanner.from_rules(RoutingRules())  # console, group_wait 30s
    >>> inc = _incident("inc-1", IncidentStatus.OPEN, 0.0)
    >>> state, out = planner.process(planner.initial_state(), [inc], now=0.0)
    >>> out
    []
    >>> state, out = planner.process(state, [], now=30.0)
    >>> [(a.receiver, a.payload["event"], a.ts, a.status.value) for a in out]
    [('console', 'trigger', 30.0, 'decided')]
    """

    rules: RoutingRules = field(default_factory=RoutingRules)
    name: str = "act"

    def __post_init__(self) -> None:
        if self.rules.route.receiver is None:
            raise ValueError("the root route needs a receiver")
        known = {r.name for r in self.rules.receivers}
        if self.rules.route.receiver not in known:
            raise ValueError(f"unknown root receiver {self.rules.route.receiver!r}")

    @classmethod
    def from_rules(cls, rules: RoutingRules) -> ActionPlanner:
        return cls(rules)

    def initial_state(self) -> PlannerState:
        return PlannerState()

    def process(
        self, state: PlannerState, batch: Sequence[Incident], *, now: EventTime
    ) -> tuple[PlannerState, list[Action]]:
        """Fire what is due before each record, take the record in, then fire what is due."""
        out: list[Action] = []
        for incident in batch:
            self._advance(state, incident.updated_at, out)
            self._ingest(state, incident)
        self._advance(state, now, out)
        return state, out

    # -- taking records in ---------------------------------------------------------------

    def _ingest(self, state: PlannerState, incident: Incident) -> None:
        """Take a record in at its own event time (``updated_at``), not at the planner's clock:
        the clock is as far as a runtime's ``now`` has gone, which differs between runtimes."""
        clock = incident.updated_at
        labels = incident_labels(incident)
        firing = incident.status is not IncidentStatus.RESOLVED
        state.incidents[incident.id] = LiveIncident(
            incident.to_wire(), labels, firing, _digest(incident)
        )
        for held in state.notices.values():  # a record may end an inhibition: check again
            if held.muted is not None and held.pending == "trigger" and held.due is not None:
                held.due = min(held.due, clock)
        if not firing:
            for notice in self._notices_of(state, incident.id):
                on_resolved(notice, clock)
            return
        digest = state.incidents[incident.id].digest
        matched: set[str] = set()
        for route in match_routes(self.rules.route, labels):
            receiver = self.rules.receiver(route.receiver)
            if receiver is None or not receiver.enabled:
                continue
            matched.add(route.receiver)
            notice = state.notices.setdefault(
                notice_key(incident.id, route.receiver),
                Notice(
                    incident.id,
                    route.receiver,
                    route.group_interval_s,
                    route.repeat_interval_s,
                    route.flap_hold_s,
                    occurrence=0,
                ),
            )
            on_firing(notice, clock, max(route.group_wait_s, route.flap_hold_s), digest)
        for notice in self._notices_of(state, incident.id):
            # a receiver paged earlier hears the rest of the story even if no longer routed
            if notice.receiver not in matched and notice.sent == "trigger":
                on_firing(notice, clock, 0.0, digest)

    @staticmethod
    def _notices_of(state: PlannerState, incident_id: str) -> list[Notice]:
        return [n for n in state.notices.values() if n.incident == incident_id]

    # -- firing what is due ----------------------------------------------------------------

    def _advance(self, state: PlannerState, ts: EventTime, out: list[Action]) -> None:
        """Fire every notice due by ``ts``, earliest first, each at its own due time (event
        time), so what is decided and when does not depend on how far a runtime's ``now``
        jumped between calls."""
        clock = ts if state.clock is None else max(state.clock, ts)
        state.clock = clock
        while due := [n for n in state.notices.values() if n.due is not None and n.due <= clock]:
            notice = min(due, key=lambda n: (n.due or 0.0, n.key))
            self._fire(state, notice, notice.due or clock, out)
        self._forget_closed(state, clock)

    def _fire(self, state: PlannerState, notice: Notice, clock: float, out: list[Action]) -> None:
        record = state.incidents[notice.incident]
        said = notice.pending or "repeat"
        if said in ("trigger", "repeat"):
            reason = self._mute_reason(state, notice.incident, clock)
            if reason is not None:
                if said == "trigger" and notice.muted != reason:
                    out.append(self._action(notice, record, clock, "trigger", muted=reason))
                notice.muted = reason  # held: checked again later, or at the next record
                if said == "repeat":
                    notice.due = clock + notice.repeat_interval_s
                else:  # on the next whole minute: where windows start and end
                    notice.due = (math.floor(clock / MUTE_RECHECK_S) + 1) * MUTE_RECHECK_S
                return
        if said == "update" and record.digest == notice.sent_digest:
            notice.pending, notice.due = None, repeat_due(notice)  # changed back: nothing new
            return
        if said == "repeat":
            notice.repeats += 1
        out.append(self._action(notice, record, clock, said))
        after_sent(notice, said, clock, record.digest)

    def _mute_reason(self, state: PlannerState, incident_id: str, clock: float) -> str | None:
        labels = state.incidents[incident_id].labels
        firing = {k: v.labels for k, v in state.incidents.items() if v.firing}
        source = inhibitor_of(self.rules.inhibit_rules, incident_id, labels, firing)
        if source is not None:
            return f"inhibited by {source}"
        window = active_window(self.rules.maintenance_windows, labels, clock)
        return None if window is None else f"maintenance window {window}"

    def _action(
        self,
        notice: Notice,
        record: LiveIncident,
        clock: float,
        said: Said,
        muted: str | None = None,
    ) -> Action:
        receiver = self.rules.receiver(notice.receiver)
        serial: int = record.wire["revision"] if said == "update" else notice.occurrence
        parts: tuple[object, ...] = (notice.incident, notice.receiver, said, serial)
        if said == "repeat":
            parts = (*parts, notice.repeats)
        if muted is not None:
            parts = (*parts, "suppressed", muted)
        payload: dict[str, Any] = {
            "event": said,
            "occurrence": notice.occurrence,
            "incident": record.wire,
            "labels": dict(record.labels),
        }
        if self.rules.external_url is not None:
            payload["link"] = incident_link(self.rules.external_url, notice.incident)
        return Action(
            id=stable_id("act", *parts),
            ts=clock,
            incident=notice.incident,
            receiver=notice.receiver,
            type=receiver.type if receiver is not None else "console",
            dedup_key=notice.incident,
            payload=payload,
            status=ActionStatus.SUPPRESSED if muted else ActionStatus.DECIDED,
            error=muted,
        )

    @staticmethod
    def _forget_closed(state: PlannerState, clock: float) -> None:
        stale = [
            k
            for k, n in state.notices.items()
            if n.closed_at is not None and clock - n.closed_at > CLOSED_RETENTION_S
        ]
        for key in stale:
            del state.notices[key]
        live = {n.incident for n in state.notices.values() if n.closed_at is None}
        for incident_id in [k for k, v in state.incidents.items() if not v.firing]:
            if incident_id not in live:
                del state.incidents[incident_id]


def _digest(incident: Incident) -> str:
    """What a receiver already paged is told again about: a material change only, i.e. the
    severity or the top cause (not a reshuffle further down the list, not a new member)."""
    top = incident.root_causes[0].node if incident.root_causes else ""
    return f"{incident.severity.value}|{top}"


def incident_link(external_url: str, incident_id: str) -> str:
    """The incident's console page.

    >>> incident_link("https://vigil.example.com", "inc-1")
    'https://vigil.example.com/#/incident/inc-1'
    """
    return f"{external_url.rstrip('/')}/#/incident/{quote(incident_id, safe='')}"


def _incident(
    iid: str,
    status: IncidentStatus,
    ts: float,
    severity: Severity = Severity.CRITICAL,
    revision: int = 0,
    cause: str = "payments",
) -> Incident:
    return Incident(
        id=iid,
        status=status,
        opened_at=0.0,
        updated_at=ts,
        severity=severity,
        summary=f"{cause} degraded",
        alerts=(),
        root_causes=(RootCause(cause, 0.9, "service", ("earliest onset",)),),
        nodes=(cause,),
        labels={"service": cause},
        revision=revision,
    )


def _example_batch() -> list[Incident]:
    opened, updated, resolved = IncidentStatus.OPEN, IncidentStatus.UPDATED, IncidentStatus.RESOLVED
    return [
        _incident("inc-a", opened, 0.0),
        _incident("inc-a", updated, 10.0, revision=1, cause="db"),
        _incident("inc-b", opened, 20.0, Severity.WARNING, cause="cart"),
        _incident("inc-b", resolved, 40.0, Severity.WARNING, revision=1, cause="cart"),
        _incident("inc-a", updated, 400.0, Severity.ERROR, revision=2, cause="db"),
        _incident("inc-a", resolved, 900.0, revision=3, cause="db"),
        _incident("inc-c", opened, 1000.0, Severity.INFO, cause="search"),
    ]


register_example(OperatorExample("act", ActionPlanner, _example_batch, PlannerState, now=0.0))
