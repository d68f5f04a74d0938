from __future__ import annotations

import httpx
import orjson
import pytest

from connectors.http.ingest import QueueIngest
from connectors.http.state import AppState
from engine.events import Alert, IncidentStatus, Rejected

AM_PAYLOAD = {
    "version": "4",
    "groupKey": '{}:{alertname="HighErrorRate"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "vigil",
    "groupLabels": {"alertname": "HighErrorRate"},
    "commonLabels": {"alertname": "HighErrorRate", "severity": "critical"},
    "commonAnnotations": {},
    "externalURL": "http://alertmanager:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "HighErrorRate", "service": "payments", "severity": "critical"},
            "annotations": {"summary": "5xx > 5%"},
            "startsAt": "2025-11-26T00:01:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": "a1b2c3",
        },
        {
            "status": "resolved",
            "labels": {"alertname": "DiskFull", "host": "node-3", "severity": "warning"},
            "annotations": {},
            "startsAt": "2025-11-26T00:00:00Z",
            "endsAt": "2025-11-26T00:02:00Z",
            "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": "d4e5f6",
        },
    ],
}


def ingested(state: AppState) -> list[object]:
    assert isinstance(state.ingest, QueueIngest)
    return list(state.ingest.drain())


def test_healthz_is_ok(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_is_503_until_the_runtime_marks_ready(
    client: httpx.Client, app_state: AppState
) -> None:
    assert client.get("/readyz").status_code == 503
    app_state.mark_ready()
    assert client.get("/readyz").json() == {"ready": True}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic test-token-123"}],
    ids=["missing", "wrong", "not-bearer"],
)
def test_write_without_the_right_token_is_401(
    client: httpx.Client, app_state: AppState, headers: dict[str, str]
) -> None:
    response = client.post("/api/v1/alerts", content=orjson.dumps(AM_PAYLOAD), headers=headers)
    assert response.status_code == 401
    assert "token" in response.json()["error"]
    assert ingested(app_state) == []


def test_no_configured_token_refuses_every_write(client: httpx.Client, app_state: AppState) -> None:
    app_state.token = None
    response = client.post(
        "/api/v1/alerts", content=b"{}", headers={"Authorization": "Bearer none"}
    )
    assert response.status_code == 401


def test_body_over_the_limit_is_413(client: httpx.Client, auth: dict[str, str]) -> None:
    response = client.post("/api/v1/alerts", content=b" " * 5000, headers=auth)
    assert response.status_code == 413
    assert "4096" in response.json()["error"]


def test_streamed_body_over_the_limit_is_413_without_content_length(
    client: httpx.Client, auth: dict[str, str]
) -> None:
    chunks = (b"x" * 1024 for _ in range(10))  # chunked transfer: no Content-Length
    response = client.post("/api/v1/alerts", content=chunks, headers=auth)
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{", "invalid JSON"),
        (b'{"a": NaN}', "invalid JSON"),
        (b"\xff\xfe{}", "invalid JSON"),
        (b"", "empty body"),
        (b"[[[[[[[[[[1]]]]]]]]]]", "nested deeper than 8"),
    ],
)
def test_unreadable_json_is_400_with_the_reason(
    client: httpx.Client, auth: dict[str, str], app_state: AppState, body: bytes, reason: str
) -> None:
    response = client.post("/api/v1/alerts", content=body, headers=auth)
    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert ingested(app_state) == []


def test_too_many_alerts_in_one_payload_is_413(client: httpx.Client, auth: dict[str, str]) -> None:
    payload = {**AM_PAYLOAD, "alerts": AM_PAYLOAD["alerts"] * 3}  # type: ignore[operator]
    response = client.post("/api/v1/alerts", content=orjson.dumps(payload), headers=auth)
    assert response.status_code == 413


def test_alertmanager_payload_is_decoded_and_handed_to_the_runtime(
    client: httpx.Client, auth: dict[str, str], app_state: AppState
) -> None:
    pytest.importorskip("engine.ingest.decode")
    response = client.post("/api/v1/alerts", content=orjson.dumps(AM_PAYLOAD), headers=auth)
    assert response.status_code == 202
    assert response.json()["accepted"] == 2
    alerts = ingested(app_state)
    assert [(a.name, a.status.value) for a in alerts if isinstance(a, Alert)] == [
        ("HighErrorRate", "firing"),
        ("DiskFull", "resolved"),
    ]


def test_payload_of_only_invalid_alerts_is_400_and_dead_lettered(
    client: httpx.Client, auth: dict[str, str], app_state: AppState
) -> None:
    pytest.importorskip("engine.ingest.decode")
    payload = {**AM_PAYLOAD, "alerts": [{"labels": {"service": "x"}, "status": "firing"}]}
    response = client.post("/api/v1/alerts", content=orjson.dumps(payload), headers=auth)
    assert response.status_code == 400
    assert response.json()["errors"]
    assert [type(e) for e in ingested(app_state)] == [Rejected]
    assert "vigil_dead_letters_total{" in client.get("/metrics").text


def test_full_ingest_queue_answers_503_with_retry_after(
    client: httpx.Client, auth: dict[str, str], app_state: AppState
) -> None:
    pytest.importorskip("engine.ingest.decode")
    app_state.ingest = QueueIngest(maxsize=1)
    body = orjson.dumps(AM_PAYLOAD)
    assert client.post("/api/v1/alerts", content=body, headers=auth).status_code == 202
    busy = client.post("/api/v1/alerts", content=body, headers=auth)
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "1"


def test_metrics_endpoint_counts_requests_per_route_and_status(client: httpx.Client) -> None:
    client.get("/healthz")
    client.get("/no/such/path")
    text = client.get("/metrics").text
    assert 'vigil_http_requests_total{route="/healthz",status="200"} 1.0' in text
    assert 'vigil_http_requests_total{route="unmatched",status="404"} 1.0' in text


def test_incident_status_filter_rejects_unknown_values(client: httpx.Client) -> None:
    assert client.get("/api/v1/incidents", params={"status": "burning"}).status_code == 400
    assert client.get("/api/v1/incidents", params={"status": IncidentStatus.OPEN.value}).json() == {
        "incidents": []
    }


def test_alerts_to_a_runtime_without_live_input_get_a_final_answer_not_a_retry(
    client: httpx.Client, auth: dict[str, str], app_state: AppState
) -> None:
    """``vigil replay/demo --serve`` take no live input: Alertmanager retries every 5xx forever,
    so the answer is a 4xx naming ``vigil serve``, with no ``Retry-After``."""
    app_state.ingest = None
    response = client.post("/api/v1/alerts", content=orjson.dumps(AM_PAYLOAD), headers=auth)
    assert response.status_code == 409
    assert "Retry-After" not in response.headers
    assert "vigil serve" in response.json()["error"]
