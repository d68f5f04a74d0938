from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx

from connectors.http.state import AppState
from connectors.http.thread import BackgroundServer
from connectors.incident_store import IncidentView
from engine.events import Incident, IncidentStatus, Severity


def incident(inc_id: str, revision: int, status: IncidentStatus, updated_at: float) -> Incident:
    return Incident(
        inc_id,
        status,
        100.0,
        updated_at,
        Severity.CRITICAL,
        f"{inc_id} r{revision}",
        (),
        (),
        revision=revision,
    )


def test_view_keeps_the_newest_revision_even_when_an_old_one_arrives_later() -> None:
    view = IncidentView()
    changed = view.apply(
        [
            incident("inc-a", 1, IncidentStatus.UPDATED, 120.0),
            incident("inc-a", 0, IncidentStatus.OPEN, 100.0),
            incident("inc-b", 0, IncidentStatus.OPEN, 110.0),
        ]
    )
    assert changed == 2
    found = view.get("inc-a")
    assert found is not None
    assert found.revision == 1
    assert view.open_count == 2


def test_view_forgets_oldest_resolved_incidents_beyond_its_bound() -> None:
    view = IncidentView(max_resolved=2)
    view.apply([incident(f"inc-{i}", 1, IncidentStatus.RESOLVED, float(i)) for i in range(5)])
    view.apply([incident("inc-open", 0, IncidentStatus.OPEN, 9.0)])
    assert [i.id for i in view.list()] == ["inc-open", "inc-4", "inc-3"]
    assert view.open_count == 1


def test_incidents_endpoints_list_filter_and_get(client: httpx.Client, app_state: AppState) -> None:
    app_state.incidents.apply(
        [
            incident("inc-a", 0, IncidentStatus.OPEN, 100.0),
            incident("inc-b", 2, IncidentStatus.RESOLVED, 300.0),
        ]
    )
    listed = client.get("/api/v1/incidents").json()["incidents"]
    assert [i["id"] for i in listed] == ["inc-b", "inc-a"]
    opened = client.get("/api/v1/incidents", params={"status": "open"}).json()["incidents"]
    assert [i["id"] for i in opened] == ["inc-a"]
    one = client.get("/api/v1/incidents/inc-b")
    assert (one.status_code, one.json()["revision"], one.json()["status"]) == (200, 2, "resolved")
    assert client.get("/api/v1/incidents/inc-zzz").status_code == 404


def test_silence_lifecycle_create_list_expire(client: httpx.Client, auth: dict[str, str]) -> None:
    body = {
        "matchers": ["service=payments", "alertname=~High.*"],
        "starts_at": "2025-11-26T00:00:00Z",
        "ends_at": int(time.time()) + 86400,  # within max_silence_duration of now
        "created_by": "ana",
        "comment": "db migration",
    }
    created = client.post("/api/v1/silences", json=body, headers=auth)
    assert created.status_code == 201
    silence_id = created.json()["id"]
    assert client.post("/api/v1/silences", json=body, headers=auth).json()["id"] == silence_id
    listed = client.get("/api/v1/silences").json()["silences"]
    assert [(s["id"], s["status"], s["starts_at"]) for s in listed] == [
        (silence_id, "active", 1_764_115_200.0)
    ]
    assert client.delete(f"/api/v1/silences/{silence_id}").status_code == 401
    assert client.delete(f"/api/v1/silences/{silence_id}", headers=auth).status_code == 200
    assert client.get("/api/v1/silences").json()["silences"][0]["status"] == "expired"
    assert client.delete("/api/v1/silences/sil-nope", headers=auth).status_code == 404


def test_bad_silence_is_400_naming_the_field(client: httpx.Client, auth: dict[str, str]) -> None:
    bad = {"matchers": ["service~payments"], "duration": "1h"}
    response = client.post("/api/v1/silences", json=bad, headers=auth)
    assert response.status_code == 400
    assert response.json()["error"].startswith("matchers[0]:")
    reversed_times = {"matchers": ["a=b"], "starts_at": 200, "ends_at": 100}
    response = client.post("/api/v1/silences", json=reversed_times, headers=auth)
    assert response.json()["error"].startswith("ends_at:")


def test_stream_sends_open_incidents_then_each_update(
    server: BackgroundServer, app_state: AppState
) -> None:
    app_state.incidents.apply([incident("inc-a", 0, IncidentStatus.OPEN, 100.0)])
    seen: list[str] = []
    got_two = threading.Event()
    with (
        httpx.Client(base_url=server.url, timeout=5.0) as c,
        c.stream("GET", "/api/v1/stream") as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("id: "):
                seen.append(line[4:])
                if len(seen) == 1:
                    app_state.incidents.apply(
                        [incident("inc-a", 1, IncidentStatus.RESOLVED, 150.0)]
                    )
                else:
                    got_two.set()
                    break
    assert got_two.is_set()
    assert seen == ["inc-a@0", "inc-a@1"]


def test_static_console_is_served_at_root_beside_the_api(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<h1>vigil</h1>")
    (tmp_path / "app.js").write_text("console.log(1)")
    with (
        BackgroundServer(AppState(static_dir=tmp_path)) as running,
        httpx.Client(base_url=running.url) as c,
    ):
        assert c.get("/").text == "<h1>vigil</h1>"
        assert c.get("/app.js").text == "console.log(1)"
        assert c.get("/healthz").json() == {"status": "ok"}
        assert c.get("/api/v1/incidents").status_code == 200
