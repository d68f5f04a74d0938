"""The console's routes on a real HTTP server (127.0.0.1:0): page, list, detail, acknowledge."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from connectors.console.session import ConsoleSession
from engine.events import Incident, IncidentStatus, RootCause, Severity

INCIDENT = Incident(
    "inc-1",
    IncidentStatus.OPEN,
    10.0,
    20.0,
    Severity.CRITICAL,
    "db slow",
    ("an-1",),
    (RootCause("db", 0.8, "service", ("earliest onset",)),),
    ("db",),
)


@pytest.fixture
def session() -> Iterator[ConsoleSession]:
    running = ConsoleSession.start(port=0, token="t0ken")
    running.observe([], [INCIDENT])
    running.sync()
    yield running
    running.server.stop()


@pytest.fixture
def client(session: ConsoleSession) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=session.server.url, timeout=5.0) as c:
        yield c


def test_page_and_vendored_files_are_served_at_root(client: httpx.Client) -> None:
    index = client.get("/")
    assert index.status_code == 200
    assert "Vigil" in index.text
    for path in (
        "/app.js",
        "/style.css",
        "/vendor/uplot/uPlot.iife.min.js",
        "/vendor/uplot/LICENSE",
    ):
        assert client.get(path).status_code == 200, path


def test_url_carries_the_token_in_its_fragment(session: ConsoleSession) -> None:
    assert session.url == f"{session.server.url}/#token=t0ken"


def test_list_has_top_cause_and_alert_count(client: httpx.Client) -> None:
    body = client.get("/api/v1/console/incidents").json()
    [row] = body["incidents"]
    assert (row["id"], row["alert_count"], row["top_cause"]["node"]) == ("inc-1", 1, "db")


def test_detail_of_unknown_incident_is_404(client: httpx.Client) -> None:
    assert client.get("/api/v1/incidents/nope/detail").status_code == 404
    assert client.get("/api/v1/incidents/inc-1/detail").json()["incident"]["id"] == "inc-1"


def test_acknowledge_needs_the_bearer_token(client: httpx.Client) -> None:
    refused = client.post("/api/v1/incidents/inc-1/ack", json={"by": "ana"})
    assert refused.status_code == 401
    wrong = client.post("/api/v1/incidents/inc-1/ack", headers={"Authorization": "Bearer x"})
    assert wrong.status_code == 401
    assert client.get("/api/v1/console/incidents").json()["incidents"][0]["ack"] is None


def test_acknowledge_is_recorded(client: httpx.Client) -> None:
    auth = {"Authorization": "Bearer t0ken"}
    done = client.post("/api/v1/incidents/inc-1/ack", json={"by": "ana"}, headers=auth)
    assert done.status_code == 200
    assert client.get("/api/v1/console/incidents").json()["incidents"][0]["ack"]["by"] == "ana"
    missing = client.post("/api/v1/incidents/nope/ack", json={}, headers=auth)
    assert missing.status_code == 404
    bad = client.post("/api/v1/incidents/inc-1/ack", json={"by": 3}, headers=auth)
    assert bad.status_code == 400
