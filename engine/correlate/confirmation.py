"""When a candidate incident is confirmed, i.e. worth opening (and paging) for.

Every member first lands in a *candidate* incident. It is announced (``open``) only once it
is confirmed; until then it is kept in state, grows, merges and can be confirmed later, but
nothing is emitted. A candidate is confirmed when one of these holds:

* **spread**: ``min_nodes`` nodes each have at least two members (a problem that shows on
  two related nodes, not one stray point);
* **persistence**: one node's members span ``confirm_s`` or more (a sustained problem);
* **a lasting alert**: an external alert of severity warning or above has been firing, and not
  flapping, for ``confirm_s`` (whoever wrote that alert asked for attention; Prometheus'
  ``for:`` has already passed). A warning that keeps firing is thus an open incident; whether
  it pages is routing's decision (the shipped routes page error and critical only).

A candidate that goes quiet unconfirmed is *noise*: it resolves like any incident, and its one
record is emitted with status ``resolved`` and the label ``noise="true"``. Its members stay
accounted for (each member still lands in exactly one emitted record), but no receiver is
paged: routing pages on ``open`` records only. This is the transient-alert hold of paging
tools (PagerDuty's auto-pause, Alertmanager's ``for:``), applied to whole incidents. Info
alerts (``severity="info"`` or ``"none"``, e.g. the always-firing ``Watchdog``) confirm
nothing on their own. ``confirm_s = 0`` confirms every candidate at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.correlate.alerts import AlertTrack, is_firing
from engine.correlate.incidents import IncidentRecord
from engine.events import EventTime

LOUD_SEVERITIES = frozenset({"warning", "error", "critical"})
"""Severities of an external alert that confirm an incident once it has fired ``confirm_s``."""


@dataclass(frozen=True, slots=True)
class ConfirmPolicy:
    """How much evidence opens an incident; see the module doc.

    Examples
    --------
    >>> record = IncidentRecord("inc-1", opened_at=0.0, last_ts=60.0)
    >>> record.spans = {"db": [0.0, 60.0, 2]}
    >>> policy = ConfirmPolicy(confirm_s=300.0, min_nodes=2)
    >>> is_confirmed(record, {}, 60.0, policy)
    False
    >>> record.spans["api"] = [30.0, 60.0, 2]
    >>> is_confirmed(record, {}, 60.0, policy)
    True
    """

    confirm_s: float = 300.0
    min_nodes: int = 2
    flap_window_s: float = 1800.0
    flap_transitions: int = 4


def is_confirmed(
    record: IncidentRecord,
    book: Mapping[str, AlertTrack],
    now: EventTime,
    policy: ConfirmPolicy,
) -> bool:
    """Whether ``record`` has enough evidence at event time ``now`` to be opened."""
    if record.confirmed or policy.confirm_s <= 0:
        return True
    spans = record.spans.values()
    if sum(1 for _, _, count in spans if count >= 2) >= policy.min_nodes:
        return True
    if any(last - first >= policy.confirm_s for first, last, _ in spans):
        return True
    if now - record.opened_at < policy.confirm_s:
        # its alerts joined at or after it opened, each firing since then at the earliest:
        # none can have fired for confirm_s yet (skips a scan of every alert per step)
        return False
    return any(_is_loud(alert, book, now, policy) for alert in record.alerts.values())


def _is_loud(
    alert: dict[str, Any], book: Mapping[str, AlertTrack], now: EventTime, policy: ConfirmPolicy
) -> bool:
    if alert["severity"] not in LOUD_SEVERITIES or alert["status"] != "firing":
        return False
    fp = alert["fingerprint"]
    if not is_firing(book, fp):
        return False
    track = book[fp]
    recent = [t for t in track.flips if now - t <= policy.flap_window_s]
    if len(recent) >= policy.flap_transitions:
        return False
    since = max([track.first_ts, *track.flips])
    return bool(now - since >= policy.confirm_s)
