"""The webhook signature is verifiable the way docs/operations.md tells a receiver to.

The documented snippet is taken from the doc and run against the request the real
``WebhookNotifier`` sent to a local HTTP receiver; rules/routing.yaml must describe the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from multidict import CIMultiDict

from connectors.notify.webhook import WebhookNotifier
from connectors.secrets import Secret
from engine.act.planner import ActionPlanner, _example_batch
from tests.integration.receivers import Receiver

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SECRET = "shared-hmac-key"


def documented_verify() -> Callable[..., bool]:
    doc = (REPO / "docs" / "operations.md").read_text()
    section = doc.split("## Webhook signatures", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None, "docs/operations.md: no python snippet under Webhook signatures"
    scope: dict[str, Any] = {}
    exec(compile(code.group(1), "docs/operations.md", "exec"), scope)  # noqa: S102  (our doc)
    return scope["verify"]  # type: ignore[no-any-return]


async def test_a_receiver_following_the_doc_accepts_real_requests_and_refuses_tampered_ones(
    receiver: Receiver,
) -> None:
    op = ActionPlanner()
    _, actions = op.process(op.initial_state(), _example_batch(), now=0.0)
    async with httpx.AsyncClient(timeout=5) as client:
        notifier = WebhookNotifier("audit", client, Secret(receiver.url), Secret(SECRET))
        await notifier.send(actions[0])
    (request,) = receiver.requests
    headers = CIMultiDict(request.headers)
    verify = documented_verify()
    assert verify(SECRET.encode(), headers, request.body)
    assert not verify(SECRET.encode(), headers, request.body + b" ")
    assert not verify(b"another-key", headers, request.body)
    assert headers["X-Vigil-Signature"].startswith("sha256=")


def test_the_routing_rules_comment_describes_the_same_signature() -> None:
    text = (REPO / "rules" / "routing.yaml").read_text()
    assert 'sha256=<hex HMAC-SHA256 of' in text
    assert 'timestamp + "." + raw body' in text
