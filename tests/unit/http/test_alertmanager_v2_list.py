"""``GET /api/v2/alerts`` (``connectors/http/amv2_alerts.py``): the alerts Vigil holds as firing,
in Alertmanager's ``gettableAlerts`` shape (``api/v2/openapi.yaml``), what ``amtool alert
query`` and Grafana's Alertmanager data source read. On main the route did not exist (405)."""

from __future__ import annotations

import time

import httpx
import orjson

from connectors.http.alertview import AlertView
from engine.events import Alert, AlertStatus, Severity
from tests.unit.http.test_alertmanager_v2 import _iso, postable

GETTABLE_KEYS = {
    "labels", "annotations", "startsAt", "endsAt", "updatedAt", "generatorURL", "fingerprint",
    "receivers", "status",
}


def _webhook(status: str, starts: float, ends: float | None, **labels: str) -> dict[str, object]:
    alert = {
        "status": status, "labels": {"alertname": "HighErrorRate", **labels},
        "annotations": {"summary": "5xx above 5%"}, "startsAt": _iso(starts),
        "endsAt": _iso(ends) if ends is not None else "0001-01-01T00:00:00Z",
        "fingerprint": "5d2c4c8e1f0a9b37",
    }
    return {"version": "4", "status": status, "receiver": "vigil", "alerts": [alert]}


def test_firing_alerts_are_listed_as_alertmanager_lists_them_until_resolved(
    client: httpx.Client, auth: dict[str, str]
) -> None:
    now = time.time()
    v2 = [postable("InstanceDown", now - 600, now + 240, instance="node-3:9100", job="node"),
          postable("InstanceDown", now - 900, now - 60, instance="node-4:9100", job="node")]
    assert client.post("/api/v2/alerts", content=orjson.dumps(v2), headers=auth).is_success
    hook = _webhook("firing", now - 300, None, service="payments")
    assert client.post("/api/v1/alerts", content=orjson.dumps(hook), headers=auth).is_success

    listed = client.get("/api/v2/alerts").json()
    assert [a["labels"].get("instance", a["labels"].get("service")) for a in listed] == [
        "node-3:9100", "payments"  # oldest startsAt first; node-4 had ended: resolved
    ]
    assert all(set(a) == GETTABLE_KEYS for a in listed)
    down, errors = listed
    assert down["status"] == {"state": "active", "silencedBy": [], "inhibitedBy": [],
                              "mutedBy": []}
    assert down["endsAt"][:19] == _iso(now + 240)[:19]  # Prometheus's endsAt
    assert errors["endsAt"] > errors["updatedAt"]  # none sent: when the view will drop it
    assert down["generatorURL"] == v2[0]["generatorURL"]
    assert down["receivers"] == [{"name": "vigil"}]
    assert errors["fingerprint"] == "5d2c4c8e1f0a9b37"
    assert client.get("/api/v2/alerts", params={"filter": 'job="node"'}).json() == [down]
    assert client.get("/api/v2/alerts", params={"filter": "no matcher"}).status_code == 400

    resolved = _webhook("resolved", now - 300, now, service="payments")
    assert client.post("/api/v1/alerts", content=orjson.dumps(resolved), headers=auth).is_success
    assert [a["fingerprint"] for a in client.get("/api/v2/alerts").json()] == [
        down["fingerprint"]
    ]


def test_a_silenced_alert_is_suppressed_by_that_silence(
    client: httpx.Client, auth: dict[str, str]
) -> None:
    now = time.time()
    v2 = [postable("InstanceDown", now - 600, now + 240, instance="node-3:9100", job="node")]
    assert client.post("/api/v2/alerts", content=orjson.dumps(v2), headers=auth).is_success
    silence = {
        "matchers": [{"name": "instance", "value": "node-.*", "isRegex": True}],
        "startsAt": _iso(now), "endsAt": _iso(now + 3600), "createdBy": "ana", "comment": "m",
    }
    created = client.post("/api/v2/silences", content=orjson.dumps(silence), headers=auth)
    sid = created.json()["silenceID"]
    [alert] = client.get("/api/v2/alerts").json()
    assert alert["status"]["state"] == "suppressed"
    assert alert["status"]["silencedBy"] == [sid]
    assert client.get("/api/v2/alerts", params={"silenced": "false"}).json() == []
    assert client.get("/api/v2/alerts", params={"active": "false"}).json() == [alert]


def test_an_alert_not_re_sent_within_the_horizon_is_dropped() -> None:
    view = AlertView(stale_after_s=3600.0)
    firing = Alert(0.0, "Down", AlertStatus.FIRING, Severity.ERROR, "f1", {"alertname": "Down"})
    view.apply([firing], now=1000.0)
    assert [a.fingerprint for a, _ in view.firing(now=4000.0)] == ["f1"]
    assert view.firing(now=4601.0) == []
