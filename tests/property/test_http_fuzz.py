"""Fuzz the HTTP ingest: every input gets 2xx or 4xx, is accounted for, and the server survives.

Accounting: a 202 hands exactly ``accepted + rejected`` events to the runtime; a 400 "no valid
alert" hands only dead letters (``Rejected``); every other 4xx hands nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.http.ingest import QueueIngest
from connectors.http.state import AppState
from connectors.http.thread import BackgroundServer
from engine.events import Rejected
from engine.rules.runtime import HttpLimits

TOKEN = "fuzz-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MAX_BODY = 64 * 1024

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=25,
)

ALERT: dict[str, Any] = {
    "status": "firing",
    "labels": {"alertname": "HighErrorRate", "service": "payments"},
    "annotations": {"summary": "5xx > 5%"},
    "startsAt": "2025-11-26T00:01:00Z",
    "endsAt": "0001-01-01T00:00:00Z",
    "generatorURL": "http://prometheus:9090/graph",
    "fingerprint": "a1b2c3",
}
PAYLOAD: dict[str, Any] = {
    "version": "4",
    "status": "firing",
    "receiver": "vigil",
    "groupLabels": {},
    "commonLabels": {},
    "commonAnnotations": {},
    "externalURL": "http://am:9093",
    "groupKey": "{}",
    "truncatedAlerts": 0,
    "alerts": [ALERT],
}


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[tuple[BackgroundServer, httpx.Client]]:
    pytest.importorskip("engine.ingest.decode")
    limits = HttpLimits(
        max_body_bytes=MAX_BODY,
        max_ingest_body_bytes=MAX_BODY,
        max_alerts_per_request=50,
        max_json_depth=32,
    )
    state = AppState(ingest=QueueIngest(maxsize=10_000), token=TOKEN, limits=limits)
    with BackgroundServer(state) as server, httpx.Client(base_url=server.url, timeout=10) as c:
        yield server, c


def post_and_account(fuzz: tuple[BackgroundServer, httpx.Client], body: bytes) -> None:
    server, client = fuzz
    ingest = server.state.ingest
    assert isinstance(ingest, QueueIngest)
    ingest.drain()
    response = client.post("/api/v1/alerts", content=body, headers=AUTH)
    got = ingest.drain()
    assert 200 <= response.status_code < 500, (response.status_code, response.text)
    answer = response.json()
    if response.status_code == 202:
        assert len(got) == answer["accepted"] + answer["rejected"]
        assert sum(isinstance(e, Rejected) for e in got) == answer["rejected"]
    elif response.status_code == 400 and "errors" in answer:
        assert got
        assert all(isinstance(e, Rejected) for e in got)
    else:
        assert got == [], response.text
        assert answer["error"]
    assert client.get("/healthz").status_code == 200


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(body=st.binary(max_size=2048))
def test_arbitrary_bytes(fuzz_server: tuple[BackgroundServer, httpx.Client], body: bytes) -> None:
    post_and_account(fuzz_server, body)


@FUZZ
@given(depth=st.integers(1, 5000), opener=st.sampled_from(["[", '{"a":']))
def test_deep_nesting(
    fuzz_server: tuple[BackgroundServer, httpx.Client], depth: int, opener: str
) -> None:
    closer = "]" if opener == "[" else "}"
    post_and_account(fuzz_server, (opener * depth + "1" + closer * depth).encode())


@FUZZ
@given(size=st.integers(0, 3 * MAX_BODY), char=st.sampled_from(["a", "é", "\\u0000", "💥"]))
def test_huge_strings(
    fuzz_server: tuple[BackgroundServer, httpx.Client], size: int, char: str
) -> None:
    alert = {**ALERT, "annotations": {"summary": "@"}}
    text = json.dumps({**PAYLOAD, "alerts": [alert]}).replace("@", char * size)
    post_and_account(fuzz_server, text.encode())


@FUZZ
@given(literal=st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-0", "1e-999"]))
def test_nan_and_inf(fuzz_server: tuple[BackgroundServer, httpx.Client], literal: str) -> None:
    text = json.dumps({**PAYLOAD, "alerts": [{**ALERT, "ts": "@"}]}).replace('"@"', literal)
    post_and_account(fuzz_server, text.encode())


@FUZZ
@given(
    where=st.sampled_from(["payload", "alerts", "alert", "labels", "status", "startsAt"]),
    value=json_values,
)
def test_wrong_types(
    fuzz_server: tuple[BackgroundServer, httpx.Client], where: str, value: Any
) -> None:
    alert = dict(ALERT)
    payload: Any = {**PAYLOAD, "alerts": [alert]}
    if where == "payload":
        payload = value
    elif where == "alerts":
        payload["alerts"] = value
    elif where == "alert":
        payload["alerts"] = [value]
    else:
        alert[where] = value
    post_and_account(fuzz_server, json.dumps(payload).encode())


@FUZZ
@given(key=st.sampled_from(["alerts", "status", "labels"]), value=json_values)
def test_duplicate_keys(
    fuzz_server: tuple[BackgroundServer, httpx.Client], key: str, value: Any
) -> None:
    text = json.dumps({**PAYLOAD, "alerts": [ALERT]})
    duplicate = f'"{key}": {json.dumps(value)}, '
    post_and_account(fuzz_server, text.replace("{", "{" + duplicate, 2).encode())


@FUZZ
@given(bad=st.binary(min_size=1, max_size=8).filter(lambda b: not _utf8(b)), at=st.integers(0, 300))
def test_invalid_utf8(
    fuzz_server: tuple[BackgroundServer, httpx.Client], bad: bytes, at: int
) -> None:
    body = json.dumps(PAYLOAD).encode()
    at = min(at, len(body))
    post_and_account(fuzz_server, body[:at] + bad + body[at:])


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@FUZZ
@given(header=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40))
def test_random_tokens_are_refused(
    fuzz_server: tuple[BackgroundServer, httpx.Client], header: str
) -> None:
    _, client = fuzz_server
    response = client.post(
        "/api/v1/alerts", content=b"{}", headers={"Authorization": f"Bearer {header}"}
    )
    assert response.status_code == 401 or header == TOKEN
