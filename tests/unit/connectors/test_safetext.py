"""Secrets masked before any cut; control characters and bidi overrides escaped in text."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from connectors.notify.console import render_line
from connectors.notify.pagerduty import build_event
from connectors.notify.slack import build_message
from connectors.retry import MAX_ERROR_BODY, classify_http
from connectors.safetext import escape_text, redact
from engine.events import Action

SECRET = "https://hooks.example/T000/B000/XyZsecret"


def _pieces(secret: str, n: int = 4) -> set[str]:
    return {secret[i : i + n] for i in range(len(secret) - n + 1)}


@pytest.mark.parametrize("form", [SECRET, SECRET.replace("/", "\\/"), quote(SECRET, safe="")])
def test_no_piece_of_a_secret_survives_the_cut_at_any_offset(form: str) -> None:
    for offset in range(0, MAX_ERROR_BODY + len(form) + 5):
        body = "." * offset + form + "." * 300
        error = classify_http("slack", 500, body, secrets=[SECRET])
        assert error is not None
        text = str(error)
        assert not [p for p in _pieces(SECRET) if p in text], offset
        assert len(text) <= len("slack: HTTP 500: ") + MAX_ERROR_BODY


def test_every_control_and_bidi_character_is_escaped() -> None:
    unsafe = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))]
    unsafe += [chr(c) for c in (0x061C, 0x200E, 0x200F, 0x2028, 0x2029)]
    unsafe += [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
    for char in unsafe:
        shown = escape_text(f"a{char}b")
        assert shown.startswith("a\\"), repr(char)
        assert shown.endswith("b"), repr(char)
        assert char not in shown


def test_redact_leaves_text_without_secrets_alone() -> None:
    assert redact("HTTP 500: nope", [SECRET, ""]) == "HTTP 500: nope"


FORGED = "ok\x1b[2J\n[console] RESOLVE critical inc-forged all clear\u202e<!channel>"


def _action(kind: str) -> Action:
    incident = {"severity": "critical", "summary": FORGED, "status": "open", "updated_at": 1.0}
    incident |= {"root_causes": [{"node": FORGED, "score": 1.0, "evidence": [FORGED]}]}
    incident |= {"labels": {"cluster": FORGED}}
    return Action("act-1", 1.0, "inc-1", kind, kind, "inc-1", {"incident": incident})


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _mrkdwn(value: object) -> list[str]:
    if isinstance(value, dict):
        own = [value["text"]] if value.get("type") == "mrkdwn" else []
        return own + [s for v in value.values() for s in _mrkdwn(v)]
    if isinstance(value, list):
        return [s for v in value for s in _mrkdwn(v)]
    return []


def test_text_outputs_escape_and_json_data_keeps_verbatim() -> None:
    line = render_line(_action("console"))
    assert "\n" not in line
    assert "\x1b" not in line
    assert "\u202e" not in line
    message = build_message(_action("slack"))
    assert not [s for s in _strings(message) if "\x1b" in s or "\u202e" in s]
    mrkdwn = [message["text"], *_mrkdwn(message["blocks"])]  # plain_text shows no mentions
    assert not [s for s in mrkdwn if "<!channel>" in s]
    event = build_event(_action("pagerduty"), "key")
    texts = [event["payload"][k] for k in ("summary", "source", "component", "group")]
    assert not [s for s in texts if "\x1b" in s or "\n" in s or "\u202e" in s]
    assert event["payload"]["custom_details"]["root_causes"][0]["node"] == FORGED
