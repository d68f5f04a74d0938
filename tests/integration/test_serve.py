"""``vigil serve`` survives SIGKILL: restarted on the same state folder it gives the outputs of an
uninterrupted run (the same anomalies, incident ids and records, dead letters and action ids),
and loses nothing it answered 2xx for.

Input goes over HTTP as a user's tools send it: Alertmanager's documented webhook payload
(``webhook_config``, version 4), Prometheus's alerts to the Alertmanager v2 API (``POST
/api/v2/alerts``, ``postableAlerts``), 15-minute chunks of metrics in turn as JSON Lines, as
Prometheus remote write (protobuf built with the library's ``WriteRequest``, snappy) and as
what the OpenTelemetry SDK's OTLP/HTTP exporter sends, and JSON Lines logs, changes and
topology (docs/events.md). The generated demo scenario gives the data, four hours, so the runs
use ``--clock event`` (idle sources told by event time, as a replay does): the outputs then
depend on the input alone, not on how a loaded machine spaces the requests (the wall clock is
journaled too, so a restart would repeat it exactly, but the uninterrupted run has gaps of
its own). An alert notification's time is when it arrived but never before ``startsAt``
(docs/events.md); on the event clock it arrives at the newest event time accepted before it,
which a restart recovers from its checkpoint and journal, so the outputs stay a function of the
input.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import snappy
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.prometheus_remote_write.gen.remote_pb2 import WriteRequest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    Gauge,
    InMemoryMetricReader,
    Metric,
    MetricExportResult,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from connectors.serve.codec import decode_event
from engine.events import Alert
from testing.scenarios.shop import generate_scenario

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "serve-test-token-0123456789"
RULES = "correlation:\n  confirm_s: 0\n"
CHUNK_S = 900.0
STALL_S = 60.0
"""Give up on a subprocess that shows no progress for this long (not a timing assertion)."""
REPLAYED = ("anomalies", "incidents", "dead_letters")
REMOTE_WRITE = "application/x-protobuf"
OTLP = "otlp"
"""Not a content type: the request's body is ``MetricsData`` for the SDK's exporter."""
RESOURCE_ATTRIBUTES = {
    "service": "service.name", "host": "host.name", "cluster": "k8s.cluster.name",
}


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _webhook(status: str, starts: float, ends: float | None) -> dict[str, Any]:
    """Alertmanager's webhook payload as its documentation shows it (version 4)."""
    alert = {
        "status": status,
        "labels": {"alertname": "HighErrorRate", "service": "payments", "severity": "critical"},
        "annotations": {"summary": "5xx ratio above 5%"},
        "startsAt": _iso(starts),
        "endsAt": _iso(ends) if ends is not None else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=errors",
        "fingerprint": "5d2c4c8e1f0a9b37",
    }
    return {
        "version": "4",
        "groupKey": '{}:{alertname="HighErrorRate"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "vigil",
        "groupLabels": {"alertname": "HighErrorRate"},
        "commonLabels": alert["labels"],
        "commonAnnotations": alert["annotations"],
        "externalURL": "http://alertmanager:9093",
        "alerts": [alert],
    }


def _postable_alerts(starts: float, ends: float) -> list[dict[str, Any]]:
    """What Prometheus posts to an Alertmanager's ``/api/v2/alerts`` for a firing alert
    (``endsAt`` a few resend intervals ahead; Alertmanager's ``api/v2/openapi.yaml``)."""
    return [{
        "labels": {"alertname": "PaymentsLatencyHigh", "service": "payments",
                   "severity": "warning", "job": "payments", "instance": "10.0.0.5:8080"},
        "annotations": {"summary": "p99 latency above 250ms"},
        "startsAt": _iso(starts),
        "endsAt": _iso(ends),
        "generatorURL": "http://prometheus:9090/graph?g0.expr=latency",
    }]


def _otlp_metrics(points: list[dict[str, Any]]) -> MetricsData:
    """``MetricsData`` as the OpenTelemetry SDK hands it to its exporter: one resource per
    service and host (``service.name``, ``host.name``, ``k8s.cluster.name``), gauges."""
    by_resource: dict[tuple[tuple[str, str], ...], dict[str, list[NumberDataPoint]]] = {}
    for p in points:
        resource = tuple(sorted((RESOURCE_ATTRIBUTES[k], v) for k, v in p["labels"].items()))
        nanos = round(p["ts"] * 1e9)
        point = NumberDataPoint({}, nanos, nanos, p["value"])
        by_resource.setdefault(resource, {}).setdefault(p["name"], []).append(point)
    scope = InstrumentationScope("shop")
    return MetricsData([
        ResourceMetrics(Resource(dict(resource)), [ScopeMetrics(scope, [
            Metric(name, None, None, Gauge(data)) for name, data in metrics.items()
        ], "")], "")
        for resource, metrics in by_resource.items()
    ])


def _requests() -> list[tuple[str, Any, str]]:
    """``(path, body, content type)`` in the order a live feed would send them."""
    scenario = generate_scenario(seed=7)
    fault = scenario.truth.fault_at
    rows = [(r["ts"], kind.value, r)
            for kind, recs in scenario.records.items() for r in recs]
    rows.sort(key=lambda row: (row[0], row[1]))
    topology = {**scenario.topology, "ts": rows[0][0]}  # without ts: the time it was received
    out = [("/api/v1/topology", orjson.dumps(topology), "application/json")]
    rows.append((rows[-1][0], "metrics", {"ts": rows[-1][0], "name": "cpu"}))  # a dead letter
    start = rows[0][0]
    alerts = {  # sent after the chunk before their time (the data is not yet past them)
        int((fault + 120 - start) // CHUNK_S) - 1: [
            ("/api/v1/alerts", _webhook("firing", fault + 120, None)),
            ("/api/v2/alerts", _postable_alerts(fault + 300, fault + 600)),
        ],
        int((fault + 1800 - start) // CHUNK_S) - 1: [
            ("/api/v2/alerts", _postable_alerts(fault + 300, fault + 2400)),  # a re-send
            ("/api/v1/alerts", _webhook("resolved", fault + 120, fault + 1800)),
        ],
    }
    for index in range(int((rows[-1][0] - start) // CHUNK_S) + 1):
        lo, hi = start + index * CHUNK_S, start + (index + 1) * CHUNK_S
        for kind in ("metrics", "logs", "changes"):
            chunk = [r for ts, k, r in rows if k == kind and lo <= ts < hi]
            whole = all("value" in r for r in chunk)  # the dead letter goes as JSON
            if kind == "metrics" and index % 3 == 1 and whole:  # as Prometheus sends them
                out.append(("/api/v1/write", _remote_write(chunk), REMOTE_WRITE))
            elif kind == "metrics" and index % 3 == 2 and whole:  # as the SDK exports them:
                for ts in sorted({r["ts"] for r in chunk}):  # what one collection holds
                    at = [r for r in chunk if r["ts"] == ts]
                    out.append(("/v1/metrics", _otlp_metrics(at), OTLP))
            elif chunk:
                body = b"\n".join(orjson.dumps(r) for r in chunk)
                out.append((f"/api/v1/{kind}", body, "application/x-ndjson"))
        for path, payload in alerts.get(index, []):
            out.append((path, orjson.dumps(payload), "application/json"))
    return out


def _remote_write(points: list[dict[str, Any]]) -> bytes:
    """A Prometheus remote-write 1.0 body (snappy protobuf), built with the library's
    ``WriteRequest``."""
    request = WriteRequest()
    for point in points:
        series = request.timeseries.add()
        labels = {"__name__": point["name"], **point["labels"]}
        for name, value in sorted(labels.items()):
            series.labels.add(name=name, value=value)
        series.samples.add(value=point["value"], timestamp=round(point["ts"] * 1000))
    return bytes(snappy.compress(request.SerializeToString()))


class Serve:
    """A ``vigil serve`` subprocess on ``state``; its log in ``log``."""

    def __init__(self, state: Path, rules: Path, log: Path, clock: str = "event") -> None:
        self.log = log
        code = "import sys; from connectors.cli import main; sys.exit(main(sys.argv[1:]))"
        args = ["serve", "--state-dir", str(state), "--port", "0", "--token", TOKEN,
                "--rules", str(ROOT / "rules"), "--rules", str(rules),
                "--checkpoint-interval", "1", "--clock", clock,
                "--drain", str(STALL_S)]  # the file receivers never fail: a drain ends as soon
        # as every action is delivered, and a short one could leave some of a loaded run's
        # last actions pending (not in actions.jsonl / notifications.jsonl), so runs differ
        env = {**os.environ, "PYTHONPATH": str(ROOT), "VIGIL_SILENCES": str(state / "sil.json")}
        with log.open("ab") as handle:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code, *args],
                cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
            )
        self.url = self._wait_for_url()
        self.client = httpx.Client(base_url=self.url, timeout=STALL_S)
        self._wait_ready()
        self.exporter = _exporter(self.url)

    def _wait_for_url(self) -> str:
        for _ in self._patience():
            found = re.findall(r"vigil serve: (http://[0-9.]+:\d+)/", self.log.read_text())
            if found:
                return found[-1]
        raise AssertionError("unreachable")

    def _wait_ready(self) -> None:
        for _ in self._patience():
            if self.client.get("/readyz").status_code == 200:
                return

    def _patience(self) -> Iterator[None]:
        seen, at = "", time.monotonic()
        while True:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            text = self.log.read_text()
            if text != seen:
                seen, at = text, time.monotonic()
            if time.monotonic() - at > STALL_S:
                raise AssertionError(f"vigil serve made no progress: {text[-3000:]}")
            yield
            time.sleep(0.05)

    def post(self, path: str, body: Any, content_type: str) -> None:
        if content_type == OTLP:
            assert self.exporter.export(body) is MetricExportResult.SUCCESS
            return
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": content_type}
        if content_type == REMOTE_WRITE:
            headers.update({"Content-Encoding": "snappy",
                            "X-Prometheus-Remote-Write-Version": "0.1.0"})
        response = self.client.post(path, content=body, headers=headers)
        assert response.status_code in (200, 202, 204), response.text

    def kill(self) -> None:
        self.client.close()
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        self.client.close()
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(timeout=STALL_S * 2) == 0, self.log.read_text()[-3000:]


def _exporter(url: str) -> OTLPMetricExporter:
    """The SDK's exporter, waiting for an answer as long as the other requests do (its
    default, 10 s, is a budget a loaded machine's fsync can eat: the export then fails)."""
    return OTLPMetricExporter(endpoint=f"{url}/v1/metrics", timeout=STALL_S,
                              headers={"Authorization": f"Bearer {TOKEN}"})


def _checkpointed_offset(state: Path) -> int:
    path = state / "checkpoint" / "serve.json"
    return int(orjson.loads(path.read_bytes())["offset"]) if path.exists() else 0


def _events_in(state: Path) -> int:
    return int(orjson.loads((state / "checkpoint" / "serve.json").read_bytes())["events_in"])


def _outputs(state: Path) -> dict[str, Any]:
    out: dict[str, Any] = {
        name: (state / f"{name}.jsonl").read_bytes().splitlines() for name in REPLAYED
    }
    with sqlite3.connect(state / "outbox.sqlite") as db:
        out["action_ids"] = sorted(row[0] for row in db.execute("SELECT id FROM outbox"))
    outcomes = [orjson.loads(line) for line in (state / "actions.jsonl").open("rb")]
    out["outcomes"] = sorted((a["id"], a["status"]) for a in outcomes)
    out["notified"] = sorted((state / "notifications.jsonl").read_bytes().splitlines())
    return out


def test_sigkilled_serve_resumes_from_its_state_folder_with_the_uninterrupted_outputs(
    tmp_path: Path,
) -> None:
    rules = tmp_path / "serve-test.yaml"
    rules.write_text(RULES)
    requests = _requests()
    calm = Serve(tmp_path / "calm", rules, tmp_path / "calm.log")
    for request in requests:
        calm.post(*request)
    calm.stop()
    expected = _outputs(tmp_path / "calm")
    for name in ("incidents", "action_ids", "dead_letters", "notified"):
        assert expected[name], name
    members = {a for line in expected["incidents"] for a in orjson.loads(line)["alerts"]}
    alert_ids = {a for a in members if a.startswith("am-")}
    assert len(alert_ids) == 2, "the webhook's alert and the v2 API's alert each joined"

    state = tmp_path / "crashed"
    serve = Serve(state, rules, tmp_path / "crashed-1.log")
    half = next(i for i, r in enumerate(requests) if r[0] == "/api/v1/alerts")
    assert {r[2] for r in requests[:half]} >= {"application/x-ndjson", REMOTE_WRITE, OTLP}
    for request in requests[:half]:
        serve.post(*request)
    for _ in serve._patience():  # a checkpoint covers part of the input
        if _checkpointed_offset(state) > 0:
            break
    cut = half + 5  # the firing alerts (webhook, v2 API), their quarter hour's metrics and logs
    # and the next remote write, answered 2xx, not yet checkpointed: the kill comes while the
    # payments incident they open is being decided and delivered (actions in the outbox, lines
    # in notifications.jsonl), the moment a restart can send or record something twice
    assert [r[0] for r in requests[half : cut]][-1] == "/api/v1/write"
    for request in requests[half:cut]:
        serve.post(*request)
    serve.kill()
    journal = sum(p.stat().st_size for p in (state / "journal").iterdir())
    print(f"killed: journal {journal} bytes, checkpoint at {_checkpointed_offset(state)}")
    serve = Serve(state, rules, tmp_path / "crashed-2.log")
    for request in requests[cut:]:
        serve.post(*request)
    serve.stop()
    got = _outputs(state)
    for name in REPLAYED:
        assert got[name] == expected[name], name
    assert got["action_ids"] == expected["action_ids"]
    assert got["outcomes"] == expected["outcomes"]  # each action delivered once, none lost
    assert got["notified"] == expected["notified"]  # nobody notified twice
    assert _events_in(state) == _events_in(tmp_path / "calm")  # each event run once
    ids = {orjson.loads(line)["id"] for line in got["incidents"]}
    served = Serve(state, rules, tmp_path / "crashed-3.log")  # the view is restored at start
    listed = served.client.get("/api/v1/incidents", params={"limit": 10_000}).json()
    served.stop()
    assert {i["id"] for i in listed["incidents"]} == ids


def test_a_backfill_on_the_event_clock_receives_alerts_at_event_time(tmp_path: Path) -> None:
    """``--clock event`` (old data loaded over HTTP): a notification is received at the newest
    event time accepted before it, not at today's wall clock. The webhook's firing alert, a
    re-send of one that started earlier, takes the backfill's time when it came; the v2 API's
    alert, whose ``endsAt`` is still ahead of that time, is firing (on the wall clock it would
    have ended a year ago); and the metrics after them are on time, not late."""
    t0 = 1_764_115_200.0  # 2025-11-26, a year before the machine's clock
    rules = tmp_path / "backfill.yaml"
    rules.write_text(RULES)
    state = tmp_path / "state"
    serve = Serve(state, rules, tmp_path / "backfill.log")

    def metrics(lo: int, hi: int) -> None:
        points = [{"ts": t0 + s, "name": "latency", "value": 0.2,
                   "labels": {"service": "payments"}} for s in range(lo, hi, 60)]
        serve.post("/api/v1/metrics", b"\n".join(map(orjson.dumps, points)),
                   "application/x-ndjson")

    metrics(0, 960)  # up to t0 + 900
    serve.post("/api/v1/alerts", orjson.dumps(_webhook("firing", t0 + 300, None)),
               "application/json")
    metrics(960, 1860)  # up to t0 + 1800
    serve.post("/api/v2/alerts", orjson.dumps(_postable_alerts(t0 + 1200, t0 + 2400)),
               "application/json")
    metrics(1860, 2460)
    serve.stop()
    journaled = [decode_event(e) for path in sorted((state / "journal").iterdir())
                 for line in path.open("rb") for e in orjson.loads(line).get("events", [])]
    alerts = [(a.status.value, a.ts) for a in journaled if isinstance(a, Alert)]
    assert alerts == [("firing", t0 + 900), ("firing", t0 + 1800)]
    assert (state / "dead_letters.jsonl").read_bytes() == b""


def test_live_alert_opens_an_incident_on_the_wall_clock_and_keeps_its_id_across_sigkill(
    tmp_path: Path,
) -> None:
    """``--clock wall`` (the default): one Alertmanager notification and what the OpenTelemetry
    SDK's OTLP exporter sends, then no input; the idle wall clock releases the alert, the
    incident opens, and after ``kill -9`` and a restart the same incident is served and every
    accepted event was run exactly once. Waits are on progress, never on a time budget."""
    rules = tmp_path / "live.yaml"
    rules.write_text("correlation:\n  confirm_s: 0\nruntime:\n  idle_source: 1s\n")
    state = tmp_path / "state"
    serve = Serve(state, rules, tmp_path / "live-1.log", clock="wall")
    now = time.time()
    serve.post("/api/v1/alerts", orjson.dumps(_webhook("firing", now - 5, None)),
               "application/json")
    exporter = _exporter(serve.url)
    assert exporter.export(_sdk_metrics()) is MetricExportResult.SUCCESS  # 3 points
    first = _wait_for_incident(serve)
    held = serve.client.get("/api/v2/alerts").json()  # as amtool alert query reads it
    assert [(a["fingerprint"], a["status"]["state"]) for a in held] == [
        ("5d2c4c8e1f0a9b37", "active")
    ]
    serve.kill()
    serve = Serve(state, rules, tmp_path / "live-2.log", clock="wall")
    listed = serve.client.get("/api/v1/incidents").json()["incidents"]
    serve.stop()
    assert [i["id"] for i in listed] == [first["id"]]
    assert first["alerts"] == ["am-5d2c4c8e1f0a9b37"]
    snapshot = orjson.loads((state / "checkpoint" / "serve.json").read_bytes())
    assert snapshot["events_in"] == 1 + 3  # each accepted event run once: none lost, none twice


def _sdk_metrics() -> object:
    """MetricsData as the OpenTelemetry SDK collects it: a counter and a histogram."""
    reader = InMemoryMetricReader()
    resource = Resource.create({"service.name": "payments", "host.name": "node-3"})
    meter = MeterProvider(resource=resource, metric_readers=[reader]).get_meter("shop")
    meter.create_counter("http.requests").add(3, {"route": "/pay"})
    latency = meter.create_histogram("latency")
    latency.record(0.2)
    latency.record(0.4)
    return reader.get_metrics_data()


def _wait_for_incident(serve: Serve) -> dict[str, Any]:
    for _ in serve._patience():
        found = serve.client.get("/api/v1/incidents").json()["incidents"]
        if found:
            return dict(found[0])
    raise AssertionError("unreachable")
