"""Scores of one replay against its truth.

*The incident for a fault* is the incident (by id, over all its records) holding the most
members that belong to the fault: anomalies (and alerts) on the fault's nodes inside its window
(``TrueFault.window``); ties go to the earlier opened. Its ranking is read from its last record
updated while the fault was still active (``updated_at <= end``), else its first record: what
the on-call saw during the outage. A fault with no member in any incident is missed (ranks 0).
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from benchmarks.e2e.run import CHAT, PAGER, Outputs
from benchmarks.e2e.truth import Case, TrueFault, alert_episodes
from benchmarks.rca.evaluate import pair_scores


@dataclass(slots=True)
class FaultScore:
    case: str
    mode: str
    root: str
    ranked: list[str]
    groups: int
    purity: float | None
    pages: int
    page_delay_s: float | None
    premature_resolves: int
    resolves: int
    notes: dict[str, int] = field(default_factory=dict)
    top_changes: int = 0
    drift_resolves: int = 0
    """Premature resolves whose root signal is inside the band of the hour after the fault
    (its level back at its normal after the fault: the daily cycle moved it off the band of
    the hour before)."""
    resolve_after_end_s: float | None = None
    """First resolve minus the fault's end (None: the fault incident never resolved)."""

    def hit(self, k: int) -> float:
        return float(self.root in self.ranked[:k])

    def avg5(self) -> float:
        return sum(self.hit(k) for k in range(1, 6)) / 5.0


@dataclass(slots=True)
class CaseScore:
    faults: list[FaultScore]
    pairs: dict[str, float]
    noise_pages: int
    days: float
    anomalies: int
    incidents: int
    early_anomalies: int
    """Anomalies in the first 30 minutes of the stream (cold start)."""


def member_tags(case: Case, out: Outputs) -> dict[str, str]:
    """Member id -> ``fault:<i>`` or ``noise:<id>`` (noise members are singletons)."""
    tags: dict[str, str] = {}
    for an in out.anomalies:
        if an.get("detail", {}).get("outside_band") is True:
            continue  # a recovery-watch hold: never a member (docs/events.md)
        tags[an["id"]] = (
            _tag(case.faults, an.get("node") or "", float(an["ts"])) or f"noise:{an['id']}"
        )
    for ep in alert_episodes(case.records.get("alerts", []), case.end):
        tag = _tag(case.faults, ep.node, ep.starts)
        if tag or ep.id not in tags:
            tags[ep.id] = tag or f"noise:{ep.id}"
    return tags


def _tag(faults: list[TrueFault], node: str, ts: float) -> str | None:
    """The fault whose window holds ``ts`` on ``node``. Where windows overlap, a fault still
    active at ``ts`` (``start - 2 min`` to ``end``) comes before one in its 10-minute tail (a
    real dataset's faults follow each other), then the first listed."""
    found: tuple[bool, int] | None = None
    for i, fault in enumerate(faults):
        lo, hi = fault.window()
        if node in fault.nodes and lo <= ts <= hi:
            key = (ts > fault.end, i)
            found = key if found is None else min(found, key)
    return None if found is None else f"fault:{found[1]}"


def score_case(case: Case, out: Outputs) -> CaseScore:
    tags = member_tags(case, out)
    records: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in out.incidents:
        records[rec["id"]].append(rec)
    member_of: dict[str, str] = {}
    for inc, recs in records.items():
        for rec in recs:
            for m in rec.get("alerts", []):
                member_of.setdefault(m, inc)
    predicted = {m: inc for m, inc in member_of.items() if m in tags}
    faulty = {inc for m, inc in predicted.items() if tags[m].startswith("fault:")}
    triggers = [
        a for a in out.actions if a.receiver == PAGER and a.payload.get("event") == "trigger"
    ]
    early = sum(1 for a in out.anomalies if float(a["ts"]) < case.start + 1800.0)
    return CaseScore(
        faults=[
            _fault_score(case, i, f, records, predicted, tags, out)
            for i, f in enumerate(case.faults)
        ],
        pairs=pair_scores(tags, predicted),
        noise_pages=sum(1 for a in triggers if a.incident not in faulty),
        days=(case.end - case.start) / 86400.0,
        anomalies=len(out.anomalies),
        incidents=len(records),
        early_anomalies=early,
    )


def _fault_score(
    case: Case,
    index: int,
    fault: TrueFault,
    records: dict[str, list[dict[str, Any]]],
    predicted: dict[str, str],
    tags: dict[str, str],
    out: Outputs,
) -> FaultScore:
    tag = f"fault:{index}"
    votes = Counter(inc for m, inc in predicted.items() if tags[m] == tag)
    if not votes:
        return FaultScore(case.name, fault.kind, fault.root, [], 0, None, 0, None, 0, 0)
    opened = {inc: min(r["opened_at"] for r in records[inc]) for inc in votes}
    main = min(votes, key=lambda inc: (-votes[inc], opened[inc]))
    recs = sorted(records[main], key=lambda r: (r["updated_at"], r.get("revision", 0)))
    during = [r for r in recs if r["updated_at"] <= fault.end] or recs[:1]
    ranked = [c["node"] for c in during[-1].get("root_causes", [])][:5]
    members = [m for m, inc in predicted.items() if inc == main]
    majority = Counter(tags[m] for m in members).most_common(1)[0][1]
    pages = [
        a
        for a in out.actions
        if a.receiver == PAGER and a.payload.get("event") == "trigger" and a.incident in votes
    ]
    resolved = [r["updated_at"] for r in recs if r["status"] == "resolved"]
    tops = [r["root_causes"][0]["node"] for r in recs if r.get("root_causes")]
    return FaultScore(
        case=case.name,
        mode=fault.kind,
        root=fault.root,
        ranked=ranked,
        groups=len(votes),
        purity=majority / len(members),
        pages=len(pages),
        page_delay_s=min(a.ts for a in pages) - fault.start if pages else None,
        premature_resolves=sum(_still_out(case, fault, t) for t in resolved[:1]),
        resolves=min(len(resolved), 1),
        drift_resolves=sum(
            _still_out(case, fault, t) and _in_band_after(case, fault, t) for t in resolved[:1]
        ),
        resolve_after_end_s=resolved[0] - fault.end if resolved else None,
        notes=Counter(
            a.receiver
            for a in out.actions
            if a.incident == main and a.receiver in (CHAT, PAGER) and a.error is None
        ),
        top_changes=sum(1 for a, b in itertools.pairwise(tops) if a != b),
    )


def _still_out(case: Case, fault: TrueFault, at: float) -> bool:
    """The root's signal is still outside its pre-incident band (p1-p99 of the hour before)
    at ``at``: the median of its last 5 samples up to ``at`` lies outside the band."""
    values = case.series.get(fault.signal) if fault.signal else None
    if not values:
        return at < fault.end
    inside = _inside(values, fault.start - 3600.0, fault.start, at)
    return at < fault.end if inside is None else not inside


def _in_band_after(case: Case, fault: TrueFault, at: float) -> bool:
    """The root's signal at ``at`` (median of its last 5 samples) is inside the p1-p99 band of
    the hour from 10 minutes after the fault's end (False when that hour is not in the stream)."""
    values = case.series.get(fault.signal) if fault.signal else None
    after = fault.end + 600.0
    return bool(values) and _inside(values or [], after, after + 3600.0, at) is True


def _inside(values: list[tuple[float, float]], lo_t: float, hi_t: float, at: float) -> bool | None:
    """Whether the median of the samples in the 5 minutes up to ``at`` lies in the p1-p99 band
    of the samples in [lo_t, hi_t) (None: fewer than 10 of those, or no recent sample)."""
    window = sorted(v for t, v in values if lo_t <= t < hi_t)
    recent = [v for t, v in values if at - 300.0 < t <= at]
    if len(window) < 10 or not recent:
        return None
    lo, hi = window[len(window) // 100], window[-1 - len(window) // 100]
    return lo <= statistics.median(recent) <= hi
