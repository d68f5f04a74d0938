"""State of ``engine.detect.logs.LogDetector``: per service its template miner, rate window,
the multi-line record being joined, samples and labels (version 3; older versions upgraded)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from engine.detect.logwindow import ServiceWindow
from engine.ingest.logtemplate import MinerState
from engine.ingest.masking import MaskMemo
from engine.vocabulary import JsonDict

STATE_VERSION: Final = 3
@dataclass(slots=True)
class PendingRecord:
    """The log record being joined (its continuation lines are appended until the next
    record): first line's ts, the highest level seen, its labels, its lines."""

    ts: float
    level: int
    labels: dict[str, str]
    lines: list[str]

    def to_dict(self) -> JsonDict:
        return {"ts": self.ts, "level": self.level, "labels": self.labels, "lines": self.lines}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PendingRecord:
        return cls(data["ts"], data["level"], dict(data["labels"]), list(data["lines"]))


@dataclass(slots=True)
class ServiceLogs:
    miner: MinerState = field(default_factory=MinerState)
    window: ServiceWindow = field(default_factory=ServiceWindow)
    pending: PendingRecord | None = None
    samples: dict[str, str] = field(default_factory=dict)
    last_ts: float = 0.0
    learn_until: float | None = None
    """Event time until which the service is learning (set by its first record)."""
    labels: dict[str, str] = field(default_factory=dict)
    """Labels of the service's latest record: the scope of its rate anomalies."""

    def to_dict(self) -> JsonDict:
        return {"miner": self.miner.to_dict(), "window": self.window.to_dict(),
                "pending": None if self.pending is None else self.pending.to_dict(),
                "samples": dict(self.samples), "last_ts": self.last_ts,
                "learn_until": self.learn_until, "labels": dict(self.labels)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ServiceLogs:
        pending = data["pending"]
        return cls(MinerState.from_dict(data["miner"]), ServiceWindow.from_dict(data["window"]),
                   None if pending is None else PendingRecord.from_dict(pending),
                   dict(data["samples"]), float(data["last_ts"]), data["learn_until"],
                   dict(data["labels"]))

    def learning(self, ts: float) -> bool:
        return self.learn_until is not None and ts < self.learn_until


@dataclass(slots=True)
class LogDetectorState:
    version: int = STATE_VERSION
    services: dict[str, ServiceLogs] = field(default_factory=dict)
    memo: MaskMemo | None = field(default=None, repr=False, compare=False)
    """One masking memo shared by every service's miner (a pure-function cache, bounded by
    ``MaskMemo``; not serialised)."""

    def to_dict(self) -> JsonDict:
        return {"version": self.version,
                "services": {name: s.to_dict() for name, s in self.services.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LogDetectorState:
        if int(data["version"]) == 1:
            data = _upgrade_v1_to_v2(data)
        if int(data["version"]) == 2:
            data = _upgrade_v2_to_v3(data)
        return cls(STATE_VERSION,
                   {name: ServiceLogs.from_dict(s) for name, s in data["services"].items()})


def _upgrade_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v2 counts late records per service window (none known before)."""
    services = {name: {**s, "window": {**s["window"], "late": 0}}
                for name, s in data["services"].items()}
    return {**data, "version": 2, "services": services}


def _upgrade_v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    """v3 adds the learning period and the latest labels per service. A service in a v2
    checkpoint has a history already: it is not learning; its labels come from its pending
    record when there is one (else none until its next record)."""
    services = {name: {**s, "learn_until": None,
                       "labels": dict((s["pending"] or {}).get("labels", {}))}
                for name, s in data["services"].items()}
    return {**data, "version": 3, "services": services}
