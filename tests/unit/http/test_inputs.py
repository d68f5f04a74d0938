"""``POST /api/v1/<kind>``: JSON and JSON Lines records of every kind into the ingest port."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import orjson
import pytest
from aiohttp import web

from connectors.http.ingest import QueueIngest
from connectors.http.inputs import JSON_KINDS, add_input_routes
from connectors.http.state import AppState
from connectors.http.thread import BackgroundServer
from engine.events import Change, LogRecord, MetricPoint, Rejected, TopologyUpdate
from engine.rules.runtime import HttpLimits
from tests.unit.http.conftest import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
LINES = {**AUTH, "Content-Type": "application/x-ndjson"}


@pytest.fixture
def state() -> AppState:
    limits = HttpLimits(max_body_bytes=4096, max_json_depth=8)
    return AppState(
        ingest=QueueIngest(maxsize=2), token=TOKEN, limits=limits, extra_routes=[add_input_routes]
    )


@pytest.fixture
def http(state: AppState) -> Iterator[httpx.Client]:
    with BackgroundServer(state) as server, httpx.Client(base_url=server.url) as client:
        yield client


def _taken(state: AppState) -> list[object]:
    assert isinstance(state.ingest, QueueIngest)
    return state.ingest.drain()


def test_json_lines_metrics_are_decoded_one_record_a_line_with_their_dead_letters(
    http: httpx.Client, state: AppState
) -> None:
    body = b'{"ts": 1, "name": "cpu", "value": 0.5}\n\n{"name": "cpu"}\n'
    response = http.post("/api/v1/metrics", content=body, headers=LINES)
    assert response.status_code == 202
    assert response.json() == {"accepted": 1, "rejected": 1, "errors": ["value: required"]}
    taken = _taken(state)
    assert taken[0] == MetricPoint(1.0, "cpu", 0.5, {})
    assert isinstance(taken[1], Rejected)
    assert (taken[1].source, taken[1].offset) == ("http:metrics", 3)


def test_a_json_array_or_object_of_any_kind_is_accepted(
    http: httpx.Client, state: AppState
) -> None:
    logs = [{"ts": 2, "message": "disk full", "level": "error"}]
    topology = {"ts": 3, "nodes": [{"id": "a"}], "edges": []}
    change = {"ts": 4, "kind": "deploy", "service": "a", "version": "1.2"}
    sent = (("logs", logs, LogRecord), ("topology", topology, TopologyUpdate),
            ("changes", change, Change))
    for kind, payload, event_type in sent:
        response = http.post(f"/api/v1/{kind}", content=orjson.dumps(payload), headers=AUTH)
        assert response.status_code == 202, response.text
        assert [type(e) for e in _taken(state)] == [event_type]


def test_refusals_name_the_reason_and_busy_means_retry(
    http: httpx.Client, state: AppState
) -> None:
    point = orjson.dumps({"ts": 1, "name": "cpu", "value": 1})
    assert http.post("/api/v1/metrics", content=point).status_code == 401
    bad = http.post("/api/v1/metrics", content=b'[{"name": "cpu"}]', headers=AUTH)
    assert (bad.status_code, bad.json()["errors"]) == (400, ["value: required"])
    assert http.post("/api/v1/metrics", content=b"[1", headers=AUTH).status_code == 400
    _taken(state)
    for _ in range(2):  # the queue holds two batches
        assert http.post("/api/v1/metrics", content=point, headers=AUTH).status_code == 202
    busy = http.post("/api/v1/metrics", content=point, headers=AUTH)
    assert (busy.status_code, busy.headers["Retry-After"]) == (503, "1")


def test_a_kind_another_module_already_serves_keeps_that_route() -> None:
    app = web.Application()

    async def theirs(_request: web.Request) -> web.Response:
        return web.Response(text="theirs")

    app.router.add_post("/api/v1/changes", theirs)
    add_input_routes(app)
    posts = sorted(r.resource.canonical for r in app.router.routes() if r.method == "POST")
    assert posts == sorted(f"/api/v1/{k.value}" for k in JSON_KINDS)
    assert [r.handler for r in app.router.routes() if "changes" in r.resource.canonical] == [
        theirs
    ]
