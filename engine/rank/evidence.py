"""Human-checkable evidence strings for ranked causes, and the incident's one-line summary."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.events import EventTime
from engine.rank.scoring import Candidate, is_unsupported
from engine.rank.signals import IncidentView

_SIGNAL_WORDS = (
    ("latency", "latency"),
    ("duration", "latency"),
    ("error", "errors"),
    ("5xx", "errors"),
    ("cpu", "CPU"),
    ("mem", "memory"),
    ("saturation", "saturation"),
)


def clock_of(ts: EventTime) -> str:
    """``HH:MM`` in UTC (event time, not a clock read).

    >>> clock_of(1764129480.0)
    '03:58'
    """
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%H:%M")


def _minutes(delta_s: float) -> str:
    return f"{round(abs(delta_s) / 60.0)} min"


def describe(cand: Candidate, view: IncidentView) -> tuple[str, ...]:
    """Evidence for one candidate, strongest first."""
    out: list[str] = []
    first, total = view.first_onset, len(view.signals)
    if cand.change is not None:
        c = cand.change
        when = "before" if c.ts <= first else "after"
        what = f"{c.kind} {c.service}{' ' + c.version if c.version else ''}"
        out.append(f"{what} at {clock_of(c.ts)}, {_minutes(first - c.ts)} {when} first anomaly")
    signal = view.signals.get(cand.node)
    if signal is not None and signal.onset <= first:
        out.append(f"earliest onset among {total} anomalous nodes")
    elif signal is not None:
        out.append(
            f"onset at {clock_of(signal.onset)}, {_minutes(signal.onset - first)} after first"
        )
    others = [n for n in cand.covered if n != cand.node]
    if others:
        out.append(f"{len(others)} of {total} anomalous nodes depend on it ({_names(others)})")
    if signal is not None:
        out.append(f"strongest signal |z|={signal.z:.1f} over {signal.count} signals")
        callers = view.seen_by.get(cand.node)
        if callers:
            out.append(f"slow or failing as its callers see it: {_names(callers)}")
    else:
        out.append(silent_evidence(cand, view))
    residents = view.residents.get(cand.node, [])
    if residents:
        bad = [r for r in residents if r in view.signals]
        out.append(f"host of {len(residents)} services, {len(bad)} anomalous")
    if cand.blocked_by:
        out.append(f"depends on anomalous {cand.blocked_by} with an earlier or equal onset")
    return tuple(out)


def silent_evidence(cand: Candidate, view: IncidentView) -> str:
    """What names a node with no signals of its own: how many of its direct dependents are
    anomalous, and whether that is strong topology evidence (see ``is_unsupported``)."""
    direct = view.dependents.get(cand.node, [])
    bad = [d for d in direct if d in view.signals]
    strength = "weak" if is_unsupported(view, cand) else "strong"
    if cand.features.get("silent", 1.0) > 0.5 and strength == "strong":
        strength = "moderate"
    return (
        f"no signals of its own; {len(bad)} of its {len(direct)} direct dependents anomalous"
        f"{' (' + _names(bad) + ')' if bad else ''}: {strength} topology evidence"
    )


def summarize(ranked: list[Candidate], view: IncidentView) -> str:
    """One line: the probable cause, what it shows, and who else is affected."""
    if not ranked:
        return "no ranked cause"
    top = ranked[0]
    signal = view.signals.get(top.node)
    if signal is not None:
        words = _signal_words(signal.names)
        if view.seen_by.get(top.node):
            words += f"; slow or failing as its callers see it ({_names(view.seen_by[top.node])})"
    else:
        bad = [d for d in view.dependents.get(top.node, []) if d in view.signals]
        words = f"no own signals, named by {len(bad)} anomalous dependents"
    others = sorted(n for n in view.signals if n != top.node)
    tail = f"; {len(others)} other nodes degraded: {_names(others)}" if others else ""
    return f"probable cause {top.node} ({top.kind}): {words}{tail}"


def _signal_words(names: list[str]) -> str:
    words: list[str] = []
    for name in names:
        lowered = name.lower()
        word = next((w for key, w in _SIGNAL_WORDS if key in lowered), name)
        if word not in words:
            words.append(word)
    return " and ".join(words[:3]) or "anomalous"


def _names(nodes: list[str], limit: int = 4) -> str:
    shown = ", ".join(nodes[:limit])
    return shown + (f", +{len(nodes) - limit} more" if len(nodes) > limit else "")
