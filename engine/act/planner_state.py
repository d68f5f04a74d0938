"""The action planner's state: its event-time clock, the latest record of each live incident
and every ``Notice`` (version 2; version 1 restores through ``_upgrade_v1_to_v2``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.act.notice import LiveIncident, Notice
from engine.vocabulary import JsonDict


@dataclass(slots=True)
class PlannerState:
    """Event-time clock, the latest record of each live incident, and every ``Notice``."""

    clock: float | None = None
    incidents: dict[str, LiveIncident] = field(default_factory=dict)
    notices: dict[str, Notice] = field(default_factory=dict)
    version: int = 2

    def to_dict(self) -> JsonDict:
        return {
            "version": self.version,
            "clock": self.clock,
            "incidents": {k: v.to_dict() for k, v in self.incidents.items()},
            "notices": {k: n.to_dict() for k, n in self.notices.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlannerState:
        if int(data.get("version", 1)) == 1:
            data = _upgrade_v1_to_v2(data)
        return cls(
            clock=data["clock"],
            incidents={k: LiveIncident.from_dict(v) for k, v in data["incidents"].items()},
            notices={k: Notice.from_dict(dict(v)) for k, v in data["notices"].items()},
            version=int(data["version"]),
        )


def _upgrade_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 digests named the top 3 causes (``severity|a,b,c``); version 2 only the top
    one (``severity|a``): cut them so a restored page is not re-sent as an update."""

    def cut(digest: str) -> str:
        severity, _, causes = digest.partition("|")
        return f"{severity}|{causes.split(',')[0]}" if digest else digest

    incidents = {k: {**v, "digest": cut(v["digest"])} for k, v in data["incidents"].items()}
    notices = {k: {**n, "sent_digest": cut(n["sent_digest"])} for k, n in data["notices"].items()}
    return {**data, "incidents": incidents, "notices": notices, "version": 2}
