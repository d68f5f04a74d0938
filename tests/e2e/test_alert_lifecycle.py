"""End to end: the alert state (firing, re-sent, resolved) drives the incident's lifecycle.

The cases of issue 17, each through the real pipeline:

* replay (``vigil replay``): a critical alert on ``db`` fires 00:10-01:15, re-sent every minute
  by Alertmanager with its original ``startsAt`` (no other time on the line, as a receiver
  records it); a related alert on ``web`` (web calls db) fires 00:40-01:10. Other telemetry
  moves the clock on. Wanted: one incident, open until the last alert resolves (01:15); it
  used to resolve at 00:25 (``startsAt`` + the quiet period) and the web alert opened a second.
  A lone warning re-sent the same way for 90 minutes is an open incident; it used to come out
  once, resolved, as noise, while still firing.
* decode -> pipeline, notifications timed by their arrival (a worker's Kafka record timestamp,
  the HTTP receive time): a critical alert re-sent every 60 s opens an incident while it
  fires and its resolve resolves it (it used to open nothing until the resolve, then stay
  open); a lone warning that keeps firing is an open incident, not resolved noise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from connectors.cli import main
from engine.events import Incident, InputKind, Rejected
from engine.ingest.decode import Origin, decode_object
from engine.pipeline import Pipeline
from engine.rules.schema import parse
from engine.testing import T0


def _rfc3339(ts: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _webhook(
    name: str, service: str, severity: str, starts: float, ends: float | None = None
) -> dict[str, Any]:
    """An Alertmanager v4 webhook payload as its webhook receiver posts it (one alert)."""
    status = "firing" if ends is None else "resolved"
    labels = {"alertname": name, "service": service, "severity": severity, "cluster": "c1"}
    return {
        "version": "4", "status": status, "receiver": "vigil", "groupKey": "{}:{}",
        "alerts": [{
            "status": status, "labels": labels, "annotations": {"summary": name},
            "startsAt": _rfc3339(starts),
            "endsAt": "0001-01-01T00:00:00Z" if ends is None else _rfc3339(ends),
        }],
    }


def _sends(
    name: str, service: str, severity: str, starts: float, ends: float
) -> list[tuple[float, dict[str, Any]]]:
    """Every notification of one alert: firing every 60 s from ``starts``, then resolved."""
    out = [(t, _webhook(name, service, severity, starts)) for t in _range(starts, ends, 60.0)]
    return [*out, (ends, _webhook(name, service, severity, starts, ends))]


def _range(start: float, stop: float, step: float) -> list[float]:
    return [start + i * step for i in range(int((stop - start) // step))]


def _read(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_replay_re_sent_alert_keeps_one_incident_open_until_its_resolve(tmp_path: Path) -> None:
    m = 60.0
    sends = sorted(
        [*_sends("DbErrors", "db", "critical", T0 + 10 * m, T0 + 75 * m),
         *_sends("WebLatency", "web", "error", T0 + 40 * m, T0 + 70 * m)],
        key=lambda s: s[0],
    )
    folder = tmp_path / "in"
    folder.mkdir()
    topology = {"nodes": [{"id": "web"}, {"id": "db"}, {"id": "mail"}],
                "edges": [{"from": "web", "to": "db"}]}
    (folder / "topology.json").write_bytes(orjson.dumps(topology))
    (folder / "alerts.jsonl").write_bytes(b"".join(orjson.dumps(p) + b"\n" for _, p in sends))
    clock = [{"ts": T0 + i * m, "name": "queue_depth", "value": 3.0 + i % 2,
              "labels": {"service": "mail"}} for i in range(150)]
    (folder / "metrics.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in clock))
    assert main(["replay", str(folder), "--out", str(tmp_path / "out"), "--quiet"]) == 0

    records = [r for r in _read(tmp_path / "out" / "incidents.jsonl")
               if any(a.startswith("am-") for a in r["alerts"])]
    holders = {r["id"] for r in records}
    assert len(holders) == 1, f"both alerts belong to one incident, got {len(holders)}"
    resolved = [r for r in records if r["status"] == "resolved"]
    assert len(resolved) == 1
    assert len(resolved[0]["alerts"]) == 2
    assert resolved[0]["updated_at"] == T0 + 75 * m, "resolved when the last alert resolved"
    assert "noise" not in resolved[0]["labels"]


def _run(
    sends: list[tuple[float, dict[str, Any]]], rules: str = ""
) -> list[tuple[float, Incident]]:
    """Each notification decoded with its arrival time as a worker decodes it (the Kafka
    record timestamp; the HTTP ingest's receive time), then detect -> incident stages at the
    event time of a source fed only by these alerts (the newest so far; the intake and its
    lateness are the worker test's, tests/integration/test_worker_alert_lifecycle.py); the
    incident records with the arrival they came out at."""
    pipeline = Pipeline.from_rules(parse(rules or "correlation: {}\n"), None)
    state = pipeline.initial_state()
    out: list[tuple[float, Incident]] = []
    event_time = 0.0
    for arrival, payload in sends:
        events = decode_object(InputKind.ALERTS, payload, Origin("alerts", timestamp=arrival))
        admitted = [e for e in events if not isinstance(e, Rejected)]
        event_time = max([event_time, *(e.ts for e in admitted)])
        state, found = pipeline.advance(state, admitted, now=event_time)
        out.extend((arrival, o) for o in found if isinstance(o, Incident))
    return out


def test_critical_alert_re_sent_every_minute_opens_and_its_resolve_resolves() -> None:
    starts = T0 + 600.0
    sends = _sends("DbDown", "db", "critical", starts, starts + 540.0)  # 9 minutes
    records = _run([*sends, (starts + 3600.0, _webhook("Tick", "mail", "info", starts))])
    opened = [(t, r) for t, r in records if r.status.value == "open"]
    assert opened, "a critical alert firing for 9 minutes opens an incident"
    assert opened[0][0] < starts + 540.0, "it opens while the alert fires, not at its resolve"
    incident = opened[0][1].id
    resolved = [r for _, r in records if r.id == incident and r.status.value == "resolved"]
    assert resolved
    assert resolved[-1].updated_at == starts + 540.0


def test_lone_warning_that_keeps_firing_is_an_open_incident_not_noise() -> None:
    starts = T0 + 600.0
    sends = [(t, _webhook("DiskFilling", "db", "warning", starts))
             for t in _range(starts, starts + 3600.0, 60.0)]
    records = _run(sends)
    assert records, "a warning firing for an hour is an incident"
    assert all(r.status.value != "resolved" for _, r in records), "it still fires"
    assert all("noise" not in r.labels for _, r in records)
    assert records[-1][1].status.value in ("open", "updated")


def test_replay_lone_warning_still_firing_is_an_open_incident_not_noise(tmp_path: Path) -> None:
    m = 60.0
    starts = T0 + 10 * m
    folder = tmp_path / "in"
    folder.mkdir()
    resends = [_webhook("DiskFilling", "db", "warning", starts) for _ in range(90)]
    (folder / "alerts.jsonl").write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in resends))
    clock = [{"ts": T0 + i * m, "name": "queue_depth", "value": 3.0 + i % 2,
              "labels": {"service": "mail"}} for i in range(120)]
    (folder / "metrics.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in clock))
    assert main(["replay", str(folder), "--out", str(tmp_path / "out"), "--quiet"]) == 0

    records = [r for r in _read(tmp_path / "out" / "incidents.jsonl")
               if any(a.startswith("am-") for a in r["alerts"])]
    assert records, "the warning is an incident"
    assert [r["status"] for r in records] == ["open"], "open while it fires, never noise"
    assert "noise" not in records[0]["labels"]
    assert records[0]["severity"] == "warning"
