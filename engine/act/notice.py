"""Per (incident, receiver) notification state: what was said, what is pending, and when."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

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

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Notice:
        return cls(**data)


def notice_key(incident: str, receiver: str) -> str:
    return f"{incident}|{receiver}"
