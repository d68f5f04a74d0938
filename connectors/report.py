"""Human-readable rendering of incidents and run summaries for the terminal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from engine.events import Action, Incident


def clock(ts: float) -> str:
    """``HH:MM`` in UTC."""
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%H:%M")


def plural(n: int, word: str) -> str:
    """``1 node``, ``2 nodes``.

    >>> plural(1, "node"), plural(3, "node")
    ('1 node', '3 nodes')
    """
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def is_noise(incident: Incident) -> bool:
    """An unconfirmed candidate, emitted once as resolved so its members are accounted for."""
    return incident.labels.get("noise") == "true"


def render_incident(incident: Incident, max_causes: int = 3) -> str:
    """A few lines: id, status, severity, span, summary, ranked causes with evidence."""
    lines = [
        f"{incident.id}  [{incident.status.value}] {incident.severity.value.upper()}  "
        f"{clock(incident.opened_at)}–{clock(incident.updated_at)} UTC  "
        f"{plural(len(incident.alerts), 'anomaly/alert')} on {plural(len(incident.nodes), 'node')}",
        f"  {incident.summary}" if incident.summary else "  (no summary)",
        "  probable root causes:",
    ]
    for rank, cause in enumerate(incident.root_causes[:max_causes], start=1):
        lines.append(f"    {rank}. {cause.node} ({cause.kind}, score {cause.score:.2f})")
        lines += [f"       - {line}" for line in cause.evidence]
    return "\n".join(lines)


def render_noise(incident: Incident) -> str:
    """One line for a candidate that never met the confirmation rule (nobody was paged)."""
    nodes = ", ".join(incident.nodes) or "no node"
    return (
        f"  {clock(incident.opened_at)} UTC  {nodes}: "
        f"{plural(len(incident.alerts), 'anomaly/alert')}  ({incident.id})"
    )


def render_actions(actions: Iterable[Action], incident_id: str) -> str:
    """The actions told about one incident: what was said, to whom, and the outcome."""
    rows = [
        f"    -> {a.payload.get('event', 'notify')} to {a.receiver} ({a.type}): "
        f"{a.status.value}, {plural(a.attempts, 'attempt')}"
        for a in actions
        if a.incident == incident_id
    ]
    return "\n".join(["  actions:", *rows]) if rows else "  actions: none"
