"""Deploy/change events from CI/CD: the contract's change records and GitHub's
``deployment_status`` webhook (fields as in GitHub's documented example payload), against a
real server."""

from __future__ import annotations

import hashlib
import hmac

import httpx
import orjson

from connectors.http.ingest import QueueIngest
from connectors.http.state import AppState
from engine.events import Change, Rejected
from tests.unit.http.conftest import TOKEN


def deployment_status(state: str) -> dict[str, object]:
    """GitHub's documented ``deployment_status`` example, trimmed to the fields Vigil reads."""
    return {
        "action": "created",
        "deployment_status": {
            "id": 209916254,
            "state": state,
            "description": "",
            "environment": "production",
            "target_url": "",
            "created_at": "2019-05-15T15:20:55Z",
            "updated_at": "2019-05-15T15:20:55Z",
        },
        "deployment": {
            "id": 145988746,
            "sha": "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
            "ref": "master",
            "task": "deploy",
            "payload": {},
            "environment": "production",
            "description": None,
            "created_at": "2019-05-15T15:20:53Z",
        },
        "repository": {
            "id": 186853002,
            "name": "Hello-World",
            "full_name": "Codertocat/Hello-World",
        },
        "sender": {"login": "Codertocat"},
    }


def signed(body: bytes, event: str = "deployment_status") -> dict[str, str]:
    mac = hmac.new(TOKEN.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-GitHub-Event": event,
        "X-Hub-Signature-256": f"sha256={mac}",
        "Content-Type": "application/json",
    }


def drained(state: AppState) -> list[object]:
    assert isinstance(state.ingest, QueueIngest)
    return state.ingest.drain()


def test_a_successful_github_deployment_is_a_deploy_change(
    client: httpx.Client, app_state: AppState
) -> None:
    body = orjson.dumps(deployment_status("success"))
    response = client.post(
        "/api/v1/changes/github?service=hello", content=body, headers=signed(body)
    )
    assert response.status_code == 202
    assert drained(app_state) == [
        Change(
            ts=1557933655.0,
            kind="deploy",
            service="hello",
            version="f95f852bd8fc",
            description="deploy of Codertocat/Hello-World master@f95f852 to production: success",
            labels={
                "env": "production",
                "state": "success",
                "repository": "Codertocat/Hello-World",
                "ref": "master",
                "sha": "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
            },
        )
    ]


def test_the_deployment_payload_may_name_service_and_version(
    client: httpx.Client, app_state: AppState
) -> None:
    event = deployment_status("failure")
    event["deployment"]["payload"] = {"service": "payments", "version": "2.14.0"}  # type: ignore[index]
    body = orjson.dumps(event)
    assert (
        client.post("/api/v1/changes/github", content=body, headers=signed(body)).status_code == 202
    )
    [change] = drained(app_state)
    assert isinstance(change, Change)
    assert (change.service, change.version, change.labels["state"]) == (
        "payments",
        "2.14.0",
        "failure",
    )


def test_non_terminal_states_and_other_events_are_ignored(
    client: httpx.Client, app_state: AppState
) -> None:
    body = orjson.dumps(deployment_status("in_progress"))
    response = client.post("/api/v1/changes/github", content=body, headers=signed(body))
    assert (response.status_code, response.json()) == (202, {"ignored": "state in_progress"})
    ping = client.post("/api/v1/changes/github", content=b"{}", headers=signed(b"{}", "ping"))
    assert ping.json() == {"pong": True}
    assert drained(app_state) == []


def test_a_wrong_signature_is_401(client: httpx.Client) -> None:
    body = orjson.dumps(deployment_status("success"))
    headers = {**signed(body), "X-Hub-Signature-256": "sha256=" + "0" * 64}
    assert client.post("/api/v1/changes/github", content=body, headers=headers).status_code == 401


def test_a_malformed_event_is_a_dead_letter_and_400(
    client: httpx.Client, app_state: AppState
) -> None:
    event = deployment_status("success")
    event["deployment_status"]["created_at"] = "yesterday"  # type: ignore[index]
    body = orjson.dumps(event)
    response = client.post("/api/v1/changes/github", content=body, headers=signed(body))
    assert response.status_code == 400
    [reject] = drained(app_state)
    assert isinstance(reject, Rejected)
    assert (
        reject.error
        == "deployment_status.created_at: not RFC 3339 or epoch seconds (got string 'yesterday')"
    )


def test_contract_change_records_are_taken_with_the_bearer_token(
    client: httpx.Client, app_state: AppState, auth: dict[str, str]
) -> None:
    records = [
        {"ts": 1764115100, "kind": "deploy", "service": "payments", "version": "2.14.0"},
        {"ts": 1764115100, "kind": "deploy"},
    ]
    response = client.post("/api/v1/changes", content=orjson.dumps(records), headers=auth)
    assert response.status_code == 202
    assert response.json() == {"accepted": 1, "rejected": 1, "errors": ["service: required"]}
    assert [type(e).__name__ for e in drained(app_state)] == ["Change", "Rejected"]
