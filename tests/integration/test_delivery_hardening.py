"""Delivery hardening (issue 19) against a real local receiver scripted to fail or be slow.

A dead receiver does not stall a replay; a budget never cancels a request in flight; one
receiver gets at most its concurrency limit of requests at once and a ``Retry-After`` holds all
of them back; no part of a secret survives in an error; control characters from the data are
escaped in every text output and kept verbatim in JSON data.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections import defaultdict
from pathlib import Path

import orjson
import pytest

from connectors.errors import DeliveryError
from connectors.files import write_scenario
from connectors.limits import Clock
from connectors.notify.http import new_client
from connectors.notify.webhook import WebhookNotifier
from connectors.replay import ReplayOptions, ReplayResult, replay
from connectors.secrets import Secret
from connectors.sender import OutboxDeliverer
from engine.events import Action, ActionStatus
from engine.rules import parse
from testing.scenarios.shop import generate_scenario
from tests.integration.receivers import Receiver, Request
from tests.integration.test_delivery import FACTOR, HMAC_KEY, decide, deliverer

pytestmark = pytest.mark.integration


def _hook_rules(url: str) -> str:
    return f"""
routing:
  receivers:
    - {{name: hook, type: webhook, url: "{url}/hook", secret_env: T_HMAC, timeout: 2s,
        deadline: 20s}}
  route:
    receiver: hook
    group_wait: 0s
    group_interval: 0s
    repeat_interval: 0s
"""


class StoppedClock:
    """Delivery time that never passes: no retry falls due and no budget runs out, so a run
    with a dead receiver ends only if nothing waits for either (the property, not a timing)."""

    def now(self) -> float:
        return 0.0

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0.01)


def _replay(
    folder: Path, out: Path, url: str, clock: Clock | None = None
) -> tuple[OutboxDeliverer, ReplayResult]:
    """One ``vigil replay``-like run (default backoff and drain; the real clock by default)."""
    rules = parse(_hook_rules(url))
    deliver = OutboxDeliverer(
        rules.routing, out, env={"T_HMAC": HMAC_KEY}, stream=io.StringIO(), clock=clock
    )
    return deliver, replay(folder, out, rules, deliver, ReplayOptions())


def test_a_dead_receiver_neither_stalls_the_replay_nor_loses_its_actions(
    tmp_path: Path, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    scenario = generate_scenario(seed=11)
    write_scenario(tmp_path / "in", scenario.records, scenario.topology)
    up, up_result = _replay(tmp_path / "in", tmp_path / "up", receiver.url)
    assert up_result.actions
    assert up.pending == []
    assert {a.status for a in up_result.actions} == {ActionStatus.DELIVERED}

    receiver.default = 500  # the receiver is down: every request fails
    receiver.requests.clear()
    caplog.set_level(logging.WARNING, logger="vigil.delivery")
    # on a stopped delivery clock: had processing or the drain waited for a retry (or for the
    # receiver's deadline), this replay would never end (pytest-timeout)
    down, down_result = _replay(tmp_path / "in", tmp_path / "down", receiver.url, StoppedClock())
    tried = [r.headers["Idempotency-Key"] for r in receiver.requests]
    assert tried
    assert len(tried) == len(set(tried)), "tried once each, never retried"
    # every action is accounted for: reported pending (left in the outbox) or finished
    decided = {a.id for a in up_result.actions}
    assert ActionStatus.DELIVERED not in {a.status for a in down_result.actions}
    assert down.pending
    assert {a.id for a in down.pending} | {a.id for a in down_result.actions} == decided
    assert "delivery pending receiver=hook" in caplog.text
    # the next run with the same output folder delivers them, once each
    receiver.default = 200
    receiver.requests.clear()
    again = OutboxDeliverer(
        parse(_hook_rules(receiver.url)).routing, tmp_path / "down", env={"T_HMAC": HMAC_KEY}
    )
    late = again([]) + again.flush(60.0) + again.close()
    assert sorted(a.id for a in late) == sorted(a.id for a in down.pending)
    hook_ids = [r.headers["Idempotency-Key"] for r in receiver.accepted()]
    assert sorted(hook_ids) == sorted(a.id for a in down.pending)


def test_a_slow_success_inside_the_timeout_is_sent_once(receiver: Receiver, tmp_path: Path) -> None:
    hook = [a for a in decide(receiver.url, 1) if a.receiver == "hook"][:1]
    receiver.script = ["slow"]  # 200 after 1 s real: far beyond any budget at 30x, inside 2 s
    receiver.slow_s = 1.0
    d = deliverer(receiver.url, tmp_path, "2s")
    finals = d(hook) + d.close(60.0)
    assert [(a.status, a.attempts) for a in finals] == [(ActionStatus.DELIVERED, 1)]
    assert [r.headers["Idempotency-Key"] for r in receiver.requests] == [hook[0].id]


def _max_overlap(requests: list[Request]) -> int:
    """Most requests the receiver held at once (from arrival to answer)."""
    events = sorted([(r.arrived, 1) for r in requests] + [(r.at, -1) for r in requests])
    most = held = 0
    for _, step in events:
        held += step
        most = max(most, held)
    return most


def test_concurrency_limit_per_receiver_and_retry_after_holds_back_the_receiver(
    receiver: Receiver, tmp_path: Path
) -> None:
    actions = [a for a in decide(receiver.url, 8) if a.receiver in ("pd", "hook", "slack")]
    receiver.delay_s = 0.05  # every answer takes a while, so requests could pile up
    receiver.script = [("429", 5)]  # the first request: 429, Retry-After 5 (simulated) seconds
    d = deliverer(receiver.url, tmp_path, "5s")
    finals = d(actions) + d.flush(3600.0) + d.close()
    assert {a.status for a in finals} == {ActionStatus.DELIVERED}
    by_path: dict[str, list[Request]] = defaultdict(list)
    for r in receiver.requests:
        by_path["/slack" if r.path.startswith("/slack") else r.path].append(r)
    limits = {"/pd": 1, "/slack": 1, "/hook": 4}
    assert {p: min(_max_overlap(rs), limits[p]) for p, rs in by_path.items()} == {
        p: _max_overlap(rs) for p, rs in by_path.items()
    }
    # after the 429 is answered, no new request reaches that receiver before Retry-After;
    # only requests already in flight then (at most limit - 1) may still arrive
    throttled = next(r for r in receiver.requests if r.status == 429)
    path = "/slack" if throttled.path.startswith("/slack") else throttled.path
    window = (throttled.at, throttled.at + 5.0 / FACTOR)
    early = [r for r in by_path[path] if window[0] < r.arrived < window[1]]
    assert len(early) <= limits[path] - 1


def test_a_long_retry_after_is_reported_not_waited_on_at_the_end(
    receiver: Receiver, tmp_path: Path
) -> None:
    pd = [a for a in decide(receiver.url, 3) if a.receiver == "pd"]
    receiver.script = [("429", 600)]  # the first request: come back in 10 (simulated) minutes
    d = deliverer(receiver.url, tmp_path)
    finals = d(pd) + d.close(3000.0)
    assert finals == []
    assert sorted(a.id for a in d.pending) == sorted(a.id for a in pd)
    assert [r.status for r in receiver.requests] == [429]  # nothing else sent meanwhile


KEY = "hmac-SECRET-key-42"


def _pieces(secret: str, n: int = 4) -> list[str]:
    return [secret[i : i + n] for i in range(len(secret) - n + 1)]


def test_no_part_of_a_secret_survives_in_an_error_at_any_offset(receiver: Receiver) -> None:
    receiver.default = 500
    pieces = _pieces(KEY)

    async def errors() -> list[str]:
        client = new_client(5.0)
        hook = WebhookNotifier("hook", client, Secret(receiver.url + "/hook"), Secret(KEY))
        action = Action("act-1", 0.0, "inc-1", "hook", "webhook", "inc-1", {"event": "trigger"})
        seen = []
        for offset in range(0, 260):
            receiver.error_body = "E" * offset + KEY + "E" * (260 - offset)
            with pytest.raises(DeliveryError) as err:
                await hook.send(action)
            seen.append(str(err.value))
        await client.aclose()
        return seen

    seen = asyncio.run(errors())
    assert len(seen) == 260
    assert [s for s in seen if any(p in s for p in pieces)] == []


def test_a_secret_in_an_error_body_reaches_no_output(
    receiver: Receiver, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver.default = 500
    receiver.error_body = "E" * 190 + HMAC_KEY  # the finding: the key's first 10 chars leaked
    hook = [a for a in decide(receiver.url, 1) if a.receiver == "hook"][:1]
    d = deliverer(receiver.url, tmp_path)
    finals = d(hook) + d.close(60.0)
    outbox = (tmp_path / "outbox.sqlite").read_bytes().decode(errors="replace")
    outputs = outbox + caplog.text + repr(finals) + repr(d.pending)
    assert "HTTP 500: EEEE" in outputs  # the error is there ...
    assert [p for p in _pieces(HMAC_KEY) if p in outputs] == []  # ... without any of the key


FORGED = "x\x1b[2J\x00\n[console] RESOLVE critical inc-forged all clear\u202e"


def _forged_action(receiver: str, kind: str) -> Action:
    incident = {"severity": "critical", "summary": FORGED, "status": "open"}
    incident |= {"root_causes": [{"node": FORGED, "score": 1.0, "evidence": [FORGED]}]}
    payload = {"event": "trigger", "incident": incident, "labels": {"service": FORGED}}
    return Action(f"act-{receiver}", 0.0, "inc-1", receiver, kind, "inc-1", payload)


def test_control_characters_are_escaped_in_text_and_kept_in_json_data(
    receiver: Receiver, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    stream = io.StringIO()
    kinds = {"console": "notify", "slack": "slack", "pd": "pagerduty", "hook": "webhook"}
    actions = [_forged_action(name, kind) for name, kind in kinds.items()]
    receiver.script = [500, 500, 500]  # error bodies carry the forged text too
    receiver.error_body = FORGED
    d = deliverer(receiver.url, tmp_path, stream=stream)
    finals = d(actions) + d.flush(3600.0) + d.close()
    assert {a.status for a in finals} == {ActionStatus.DELIVERED}
    unsafe = ("\x1b", "\x00", "\u202e", "\n[console]")
    shown = stream.getvalue()
    assert shown.count("\n") == 1
    assert "inc-forged" in shown
    assert [c for c in unsafe if c in shown + caplog.text] == []
    for r in receiver.accepted():
        body = orjson.loads(r.body)
        if r.path == "/hook":  # JSON data: verbatim
            assert body["incident"]["summary"] == FORGED
            continue
        shown_texts = _strings(body["blocks"] if "blocks" in body else _pd_texts(body))
        assert [c for c in unsafe if any(c in t for t in shown_texts)] == [], r.path
        if r.path == "/pd":
            assert body["payload"]["custom_details"]["root_causes"][0]["node"] == FORGED


def _pd_texts(body: dict) -> list[str]:
    payload = body["payload"]
    return [payload[k] for k in ("summary", "source", "component", "group")]


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
