"""The incident lifecycle past placement: what keeps an open incident open, and when it resolves.

Incidents resolve after ``quiet_s`` without activity, where a recovery-watch hold (one of its
nodes' series still outside its pre-incident band, see ``engine.correlate.recovery``) counts
as activity: an incident does not resolve while its members are still bad.

Alert state drives the lifecycle (``engine.correlate.alerts``). A firing alert member is
still bad until it resolves (``status=resolved``, or no status and ``endsAt`` past, see
``engine.ingest.alertmanager``): an incident holding one does not go quiet (it is held, like a
recovery-watch hold) while the alert was seen within ``alert_ttl_s``, and an error or critical
one keeps its node active for linking new alerts; each re-send is activity at its arrival (its
``ts``). An incident whose members are all alerts, all resolved, resolves at the last resolve
once ``confirm_s`` has passed with none firing again and no hold after it (the mirror of
confirmation: an alert that fires again within it continues the same incident).
"""

from __future__ import annotations

from engine.correlate.alerts import Verdict, is_firing
from engine.correlate.incidents import IncidentRecord
from engine.correlate.placement import alert_of
from engine.correlate.state import CorrelateState
from engine.events import Alert, Anomaly, AnomalyKind, EventTime


def resolution(
    state: CorrelateState, record: IncidentRecord, ts: EventTime, quiet_s: float, confirm_s: float
) -> EventTime | None:
    """When the open ``record`` resolved, if it has by ``ts``: at its last alert's resolve once
    ``confirm_s`` passed with none firing again (all its members resolved alerts), or
    ``quiet_s`` after its last activity when no alert member still fires."""
    if record.is_settled(ts - confirm_s):
        return record.settled_at
    if ts - record.active_ts > quiet_s and not _still_firing(state, record, ts):
        return record.active_ts + quiet_s
    return None


def forget_incidents(state: CorrelateState, ts: EventTime, forget_after_s: float) -> None:
    """Drop incidents resolved more than ``forget_after_s`` before ``ts`` and their members'
    index entries."""
    old = [k for k, r in state.incidents.items()
           if r.resolved_at is not None and ts - r.resolved_at > forget_after_s]
    for key in old:
        for member in state.incidents.pop(key).members:
            for name in {member, alert_of(member)}:
                if state.member_of.get(name) == key:
                    del state.member_of[name]


def apply_hold(state: CorrelateState, hold: Anomaly) -> None:
    """A member's series is still outside its pre-incident band: the open incidents holding
    its node stay open (a hold is not a member: it joins, opens and ranks nothing)."""
    for record in state.incidents.values():
        if record.is_open and hold.node in record.spans:
            record.held_ts = hold.ts if record.held_ts is None else max(record.held_ts, hold.ts)


def _still_firing(state: CorrelateState, record: IncidentRecord, ts: EventTime) -> bool:
    """Whether an alert member of ``record`` still fires (it has not resolved and was seen
    within ``alert_ttl_s``): then the incident is held at ``ts``, not resolved as quiet.
    Alerts that stopped firing unnoticed (a flapping resolve, a forgotten fingerprint) are
    dropped from its firing index here."""
    for node, fps in list(record.firing.items()):
        for fp in [fp for fp in fps if not is_firing(state.alerts, fp)]:
            del fps[fp]
        if not fps:
            del record.firing[node]
    if not record.firing:
        return False
    record.held_ts = ts
    return True


def corroborates_only(anomaly: Anomaly) -> bool:
    """A log template that went quiet (``rate_drop``) is evidence about a problem already
    open (a service that stopped logging in an outage), not a problem of its own: it joins an
    incident but never opens one (an error line stopping when its fault ended is recovery)."""
    return anomaly.kind is AnomalyKind.LOG and anomaly.detail.get("reason") == "rate_drop"


def follow_alert(
    state: CorrelateState, owner: IncidentRecord, alert: Alert, verdict: Verdict, node: str | None
) -> None:
    """A later notification of an alert the open incident ``owner`` already holds: a new
    status is recorded, a re-send's arrival is activity, and the alert fires on (also while
    flapping: held) or resolved on its node."""
    kept = owner.alerts.get(alert.fingerprint)
    if kept is None or kept["status"] != alert.status.value:  # fires again, resolved
        owner.add_alert(alert)
    if verdict in (Verdict.NEW, Verdict.REFRESH):
        owner.last_ts = max(owner.last_ts, alert.ts)
    if is_firing(state.alerts, alert.fingerprint):
        owner.alert_fired(alert.fingerprint, node, alert.ts)
    else:
        owner.alert_resolved(alert.fingerprint, node, alert.ts)
