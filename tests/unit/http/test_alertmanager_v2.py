"""Alertmanager v2 API (``connectors/http/amv2.py``) and large notifications, against a real
server: the payload shapes of Alertmanager's ``api/v2/openapi.yaml`` and Prometheus' "Sending
alerts" client documentation."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import orjson
import pytest

from connectors.http.ingest import QueueIngest
from connectors.http.state import AppState
from connectors.http.thread import BackgroundServer
from engine.events import Alert, AlertStatus, Rejected
from engine.rules.runtime import HttpLimits
from tests.unit.http.conftest import TOKEN


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def postable(name: str, starts_at: float, ends_at: float, **labels: str) -> dict[str, object]:
    """One element as Prometheus posts it (``postableAlert``)."""
    return {
        "labels": {"alertname": name, **labels},
        "annotations": {"summary": f"{name} on {labels.get('instance', '?')}"},
        "startsAt": _iso(starts_at),
        "endsAt": _iso(ends_at),
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0",
    }


def drained(state: AppState) -> list[object]:
    assert isinstance(state.ingest, QueueIngest)
    return state.ingest.drain()


def test_prometheus_alerts_are_firing_until_their_ends_at_passes(
    client: httpx.Client, app_state: AppState, auth: dict[str, str]
) -> None:
    now = time.time()
    body = [
        postable("InstanceDown", now - 600, now + 240, instance="node-3:9100", job="node"),
        postable("InstanceDown", now - 900, now - 60, instance="node-4:9100", job="node"),
    ]
    response = client.post("/api/v2/alerts", content=orjson.dumps(body), headers=auth)
    assert response.status_code == 200
    alerts = drained(app_state)
    assert [(a.labels["instance"], a.status) for a in alerts if isinstance(a, Alert)] == [
        ("node-3:9100", AlertStatus.FIRING),
        ("node-4:9100", AlertStatus.RESOLVED),
    ]
    first = alerts[0]
    assert isinstance(first, Alert)
    assert first.generator_url == body[0]["generatorURL"]
    # a firing notification's event time is its arrival (issue 17), its onset stays startsAt
    assert first.ts >= now
    assert first.starts_at == pytest.approx(now - 600, abs=1e-3)


def test_a_bad_element_is_a_dead_letter_alone_and_counted(
    client: httpx.Client, app_state: AppState, auth: dict[str, str]
) -> None:
    now = time.time()
    body = [postable("A", now, now + 60), {"labels": {"alertname": "B"}, "startsAt": "soon"}]
    response = client.post("/api/v2/alerts", content=orjson.dumps(body), headers=auth)
    assert response.status_code == 200
    events = drained(app_state)
    rejects = [e for e in events if isinstance(e, Rejected)]
    assert [r.error for r in rejects] == [
        "alerts[1].startsAt: not RFC 3339 or epoch seconds (got string 'soon')"
    ]
    text = client.get("/metrics").text
    assert (
        'vigil_dead_letters_total{reason="alerts.startsAt: not RFC 3339 or epoch seconds"} 1.0'
        in text
    )


def test_only_bad_elements_is_400_as_a_json_string(
    client: httpx.Client, auth: dict[str, str]
) -> None:
    response = client.post("/api/v2/alerts", content=b'{"labels": {}}', headers=auth)
    assert response.status_code == 400
    assert response.json().startswith("no valid alert: alerts: must be an array")


def test_v2_alerts_need_the_token(client: httpx.Client) -> None:
    assert client.post("/api/v2/alerts", content=b"[]").status_code == 401


def test_amtool_style_silence_round_trip(
    client: httpx.Client, app_state: AppState, auth: dict[str, str]
) -> None:
    now = time.time()
    body = {
        "matchers": [
            {"name": "alertname", "value": "InstanceDown", "isRegex": False, "isEqual": True},
            {"name": "instance", "value": "node-.*", "isRegex": True},
        ],
        "startsAt": _iso(now),
        "endsAt": _iso(now + 3600),
        "createdBy": "ana",
        "comment": "maintenance",
    }
    created = client.post("/api/v2/silences", content=orjson.dumps(body), headers=auth)
    assert created.status_code == 200
    silence_id = created.json()["silenceID"]
    listed = client.get("/api/v2/silences").json()
    assert [s["id"] for s in listed] == [silence_id]
    assert listed[0]["status"] == {"state": "active"}
    assert listed[0]["matchers"] == [
        {"name": "alertname", "value": "InstanceDown", "isRegex": False, "isEqual": True},
        {"name": "instance", "value": "node-.*", "isRegex": True, "isEqual": True},
    ]
    assert (listed[0]["createdBy"], listed[0]["comment"]) == ("ana", "maintenance")
    # the same silence through the v1 API and the store the deliverer reads
    assert [s["id"] for s in client.get("/api/v1/silences").json()["silences"]] == [silence_id]
    assert client.get(f"/api/v2/silence/{silence_id}").json()["id"] == silence_id
    deleted = client.delete(f"/api/v2/silence/{silence_id}", headers=auth)
    assert deleted.status_code == 200
    assert client.get(f"/api/v2/silence/{silence_id}").json()["status"] == {"state": "expired"}


def test_posting_with_an_id_replaces_that_silence(
    client: httpx.Client, auth: dict[str, str]
) -> None:
    now = time.time()
    body: dict[str, object] = {
        "matchers": [{"name": "service", "value": "payments", "isRegex": False}],
        "startsAt": _iso(now),
        "endsAt": _iso(now + 3600),
        "createdBy": "ana",
        "comment": "",
    }
    first = client.post("/api/v2/silences", content=orjson.dumps(body), headers=auth).json()
    body.update(id=first["silenceID"], endsAt=_iso(now + 7200))
    second = client.post("/api/v2/silences", content=orjson.dumps(body), headers=auth).json()
    states = {s["id"]: s["status"]["state"] for s in client.get("/api/v2/silences").json()}
    assert states == {first["silenceID"]: "expired", second["silenceID"]: "active"}
    body["id"] = "sil-unknown"
    missing = client.post("/api/v2/silences", content=orjson.dumps(body), headers=auth)
    assert missing.status_code == 404


def test_a_bad_silence_is_400_naming_the_field(client: httpx.Client, auth: dict[str, str]) -> None:
    body = {"matchers": [{"name": "a", "value": 1, "isRegex": False}], "endsAt": "x"}
    response = client.post("/api/v2/silences", content=orjson.dumps(body), headers=auth)
    assert response.status_code == 400
    assert response.json().startswith("matchers[0]:")


def test_status_answers_a_health_check(client: httpx.Client) -> None:
    status = client.get("/api/v2/status").json()
    assert status["cluster"]["status"] == "disabled"
    assert set(status) == {"cluster", "versionInfo", "config", "uptime"}


# Large notifications -------------------------------------------------------------------------


def webhook(n_alerts: int) -> dict[str, object]:
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": "KubePodCrashLooping", "pod": f"api-{i}", "namespace": "prod"},
            "annotations": {"description": "Pod is crash looping." * 3},
            "startsAt": "2025-11-26T00:01:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": f"{i:016x}",
        }
        for i in range(n_alerts)
    ]
    return {
        "version": "4",
        "groupKey": "{}:{}",
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "vigil",
        "groupLabels": {},
        "commonLabels": {"alertname": "KubePodCrashLooping"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": alerts,
    }


@pytest.fixture
def default_server() -> Iterator[tuple[AppState, httpx.Client]]:
    state = AppState(ingest=QueueIngest(maxsize=100), token=TOKEN, limits=HttpLimits())
    with BackgroundServer(state) as server, httpx.Client(base_url=server.url, timeout=30) as c:
        yield state, c


def test_a_whole_alertmanager_group_over_1000_alerts_and_1_mib_is_taken_in_batches(
    default_server: tuple[AppState, httpx.Client], auth: dict[str, str]
) -> None:
    state, client = default_server
    body = orjson.dumps(webhook(3500))
    assert len(body) > 1_048_576
    response = client.post("/api/v1/alerts", content=body, headers=auth)
    assert (response.status_code, response.json()["accepted"]) == (202, 3500)
    assert isinstance(state.ingest, QueueIngest)
    sizes = []
    while not state.ingest.batches.empty():
        sizes.append(len(state.ingest.batches.get_nowait()))
    assert sizes == [1000, 1000, 1000, 500]


def test_a_runtime_that_cannot_take_the_notification_gets_503_not_4xx(
    auth: dict[str, str],
) -> None:
    state = AppState(ingest=QueueIngest(maxsize=1), token=TOKEN, limits=HttpLimits())
    with BackgroundServer(state) as server, httpx.Client(base_url=server.url, timeout=30) as c:
        response = c.post("/api/v1/alerts", content=orjson.dumps(webhook(1500)), headers=auth)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"


def test_silence_filters_match_the_equality_matchers_as_alertmanager_does(
    client: httpx.Client, auth: dict[str, str]
) -> None:
    now = time.time()
    ids = {}
    for name in ("InstanceDown", "DiskFull"):
        body = {
            "matchers": [{"name": "alertname", "value": name, "isRegex": False}],
            "startsAt": _iso(now),
            "endsAt": _iso(now + 600),
            "createdBy": "ana",
            "comment": "",
        }
        ids[name] = client.post(
            "/api/v2/silences", content=orjson.dumps(body), headers=auth
        ).json()["silenceID"]
    kept = client.get("/api/v2/silences", params={"filter": "alertname=~Instance.*"}).json()
    assert [s["id"] for s in kept] == [ids["InstanceDown"]]
    assert len(client.get("/api/v2/silences", params={"filter": "team=ops"}).json()) == 0
    assert client.get("/api/v2/silences", params={"filter": "a=~(?=x)"}).status_code == 400
