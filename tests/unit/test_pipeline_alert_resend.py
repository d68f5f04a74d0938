"""Alertmanager re-notifications through the whole pipeline (decode -> intake -> incident)."""

from __future__ import annotations

from typing import Any

from engine.events import Incident, InputKind, Rejected
from engine.ingest.decode import Origin, decode_object
from engine.pipeline import Pipeline
from engine.rules.schema import parse
from engine.testing import T0


def _webhook(starts_at: str) -> dict[str, Any]:
    """An Alertmanager v4 webhook payload, as its webhook receiver posts it."""
    return {
        "version": "4", "status": "firing", "receiver": "vigil", "groupKey": "{}:{}",
        "alerts": [{
            "status": "firing", "startsAt": starts_at, "endsAt": "0001-01-01T00:00:00Z",
            "labels": {"alertname": "DiskAlmostFull", "service": "db", "severity": "warning"},
            "annotations": {"summary": "disk 91% full"}, "fingerprint": "5f3a9c0e1b2d4f67",
        }],
    }


def test_a_firing_alert_re_sent_every_4_hours_is_one_member_and_no_dead_letter() -> None:
    pipeline = Pipeline.from_rules(parse("correlation:\n  confirm_s: 0\n"), None)
    state = pipeline.initial_state()
    outputs: list[Any] = []
    for hours in (0, 4, 8, 12):  # Alertmanager's default repeat_interval is 4h
        alert = decode_object(InputKind.ALERTS, _webhook("2025-11-26T00:00:00Z"), Origin("alerts"))
        state, out = pipeline.advance(state, alert, now=T0 + hours * 3600.0)
        outputs += out
    assert not [o for o in outputs if isinstance(o, Rejected)]
    members = {a for o in outputs if isinstance(o, Incident) for a in o.alerts}
    incidents = {o.id for o in outputs if isinstance(o, Incident)}
    assert len(members) == 1
    assert len(incidents) == 1
