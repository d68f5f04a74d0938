"""Human-readable rendering of incidents and run summaries for the terminal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from engine.events import Action, Incident


def clock(ts: float) -> str:
    """``HH:MM`` in UTC."""
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%H:%M")


def render_incident(incident: Incident, max_causes: int = 3) -> str:
    """A few lines: id, status, severity, span, summary, ranked causes with evidence."""
    lines = [
        f"{incident.id}  [{incident.status.value}] {incident.severity.value.upper()}  "
        f"{clock(incident.opened_at)}–{clock(incident.updated_at)} UTC  "
        f"{len(incident.alerts)} alerts/anomalies on {len(incident.nodes)} nodes",
        f"  {incident.summary}" if incident.summary else "  (no summary)",
        "  probable root causes:",
    ]
    for rank, cause in enumerate(incident.root_causes[:max_causes], start=1):
        lines.append(f"    {rank}. {cause.node} ({cause.kind}, score {cause.score:.2f})")
        lines += [f"       - {line}" for line in cause.evidence]
    return "\n".join(lines)


def render_actions(actions: Iterable[Action], incident_id: str) -> str:
    rows = [
        f"    -> {a.receiver} ({a.type}): {a.status.value}, {a.attempts} attempt(s)"
        for a in actions
        if a.incident == incident_id
    ]
    return "\n".join(["  actions:", *rows]) if rows else "  actions: none"
