"""Per (incident, receiver) notification state: what was said, what is pending, and when.

Also how that state moves when a record fires or resolves and when something is sent.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from engine.vocabulary import JsonDict

Said = Literal["trigger", "update", "resolve", "repeat"]


@dataclass(slots=True)
class Notice:
    """Where the conversation about one incident with one receiver stands.

    ``pending`` is the next thing to say and ``due`` when (event time); ``sent`` is the last
    page state the receiver knows (``None``: never paged; ``trigger``: paged; ``resolve``:
    told it is over). ``occurrence`` counts pages of this incident (a reopen is a new one).
    """

    incident: str
    receiver: str
    group_interval_s: float
    repeat_interval_s: float
    flap_hold_s: float
    pending: Said | None = None
    due: float | None = None
    sent: Literal["trigger", "resolve"] | None = None
    sent_at: float | None = None
    sent_digest: str = ""
    occurrence: int = 1
    repeats: int = 0
    flaps: int = 0
    muted: str | None = None
    closed_at: float | None = None

    @property
    def key(self) -> str:
        return notice_key(self.incident, self.receiver)

    def to_dict(self) -> JsonDict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Notice:
        return cls(**data)


@dataclass(slots=True)
class LiveIncident:
    """The planner's latest word on one incident: its wire record (the action payload), its
    routing labels, whether it is firing, and its digest (what a paged receiver is told again
    about). Serialized with the keys of the dict it replaced (planner state v2)."""

    wire: dict[str, Any]
    labels: dict[str, str]
    firing: bool
    digest: str

    def to_dict(self) -> JsonDict:
        return {"wire": self.wire, "labels": dict(self.labels), "firing": self.firing,
                "digest": self.digest}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LiveIncident:
        return cls(dict(data["wire"]), dict(data["labels"]), bool(data["firing"]),
                   str(data["digest"]))


def notice_key(incident: str, receiver: str) -> str:
    return f"{incident}|{receiver}"


def on_firing(notice: Notice, clock: float, hold_s: float, digest: str) -> None:
    """A firing record: open (or reopen) the page, cancel a held resolve, or queue an update."""
    if notice.sent != "trigger" and notice.pending != "trigger":
        notice.occurrence += 1
        notice.pending, notice.due = "trigger", clock + hold_s
        notice.closed_at, notice.muted = None, None
    elif notice.pending == "resolve":  # flapped back before the resolve went out: not re-paged
        notice.flaps += 1
        notice.pending, notice.due = None, repeat_due(notice)
    if notice.sent == "trigger" and notice.pending is None and digest != notice.sent_digest:
        sent_at = clock if notice.sent_at is None else notice.sent_at
        notice.pending, notice.due = "update", max(clock, sent_at + notice.group_interval_s)


def on_resolved(notice: Notice, clock: float) -> None:
    """A resolved record: drop a page never sent (flap hold), else schedule the resolve."""
    if notice.sent == "trigger":
        notice.pending, notice.due = "resolve", clock + notice.flap_hold_s
    elif notice.closed_at is None:
        notice.pending, notice.due, notice.closed_at = None, None, clock


def after_sent(notice: Notice, said: Said, clock: float, digest: str) -> None:
    """``said`` went out at ``clock``: record it and schedule what comes next."""
    if said == "resolve":
        notice.sent, notice.pending, notice.due, notice.closed_at = "resolve", None, None, clock
        return
    notice.sent, notice.sent_at, notice.sent_digest, notice.muted = "trigger", clock, digest, None
    notice.pending, notice.due = None, repeat_due(notice)


def repeat_due(notice: Notice) -> float | None:
    """When a firing page is next repeated (None: never, or not yet sent)."""
    if notice.repeat_interval_s <= 0 or notice.sent_at is None:
        return None
    return notice.sent_at + notice.repeat_interval_s
