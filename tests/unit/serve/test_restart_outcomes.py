"""``actions.jsonl`` after ``vigil serve`` was killed: it is appended to, never cut back to a
checkpoint, and reconciled at start with the outcomes the outbox recorded. Each outcome ends
up in it once: after a kill in the middle of a line, and after a kill while an action waited
in the outbox (which the restarted deliverer sends)."""

from __future__ import annotations

import dataclasses
import io
import time
from pathlib import Path

import orjson

from connectors.outbox import SqliteOutbox
from connectors.sender import OutboxDeliverer
from connectors.serve.runtime import LiveRuntime, ServeOptions
from engine.events import Action, ActionStatus
from engine.rules import RuleSet, parse

RULES = """
routing:
  receivers:
    - {name: audit, type: file, path: audit.jsonl}
  route: {receiver: audit, group_wait: 0s, group_interval: 0s, repeat_interval: 0s}
"""


def _no_receivers(actions: list[Action]) -> list[Action]:
    return []


def test_a_start_after_a_torn_outcome_line_cuts_it_and_recovers_the_outcome(
    tmp_path: Path,
) -> None:
    decided = [Action(f"act-{i}", float(i), "inc-1", "hook", "webhook", "inc-1") for i in (1, 2)]
    outbox = SqliteOutbox(tmp_path / "outbox.sqlite")
    for entry in outbox.put(decided):  # both delivered, as the outbox recorded
        outbox.finish(entry, dataclasses.replace(entry.action, status=ActionStatus.DELIVERED))
    first, second = (orjson.dumps(a.to_wire()) for a in outbox.finished())
    outbox.close()
    (tmp_path / "actions.jsonl").write_bytes(first + b"\n" + second[:25])  # killed mid-write
    runtime = LiveRuntime(RuleSet(), tmp_path, _no_receivers, ServeOptions())
    runtime.close(drain_s=0.0)
    lines = (tmp_path / "actions.jsonl").read_bytes().splitlines()
    assert [orjson.loads(line)["id"] for line in lines] == ["act-1", "act-2"]



def test_an_action_pending_at_the_kill_has_one_outcome_line_after_the_restart(
    tmp_path: Path,
) -> None:
    """On main the deliverer began sending when it was made, before the runtime reconciled
    ``actions.jsonl`` with the outbox: an action it finished first was written twice."""
    outbox = SqliteOutbox(tmp_path / "outbox.sqlite")  # killed while it waited to be sent
    outbox.put([Action("act-1", 1.0, "inc-1", "audit", "file", "inc-1", {"n": 1})])
    outbox.close()
    deliverer = OutboxDeliverer(parse(RULES).routing, tmp_path, env={}, stream=io.StringIO())
    _start_up(tmp_path)
    runtime = LiveRuntime(RuleSet(), tmp_path, deliverer, ServeOptions())
    runtime.collect()
    runtime.close(drain_s=60.0)
    outcomes = [orjson.loads(line) for line in (tmp_path / "actions.jsonl").open("rb")]
    assert [(o["id"], o["status"]) for o in outcomes] == [("act-1", "delivered")]
    assert len((tmp_path / "audit.jsonl").read_bytes().splitlines()) == 1


def _start_up(folder: Path, polls: int = 100) -> None:
    """What ``vigil serve`` does between making the deliverer and the runtime (rules, the
    pipeline state: seconds on a loaded machine), here until an outcome is recorded or a few
    seconds passed (a simulated start-up, not a timing assertion)."""
    for _ in range(polls):
        outbox = SqliteOutbox(folder / "outbox.sqlite")
        try:
            if outbox.counts().get("delivered"):
                return
        finally:
            outbox.close()
        time.sleep(0.03)
