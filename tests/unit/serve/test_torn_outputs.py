"""``vigil serve`` killed in the middle of writing ``actions.jsonl`` (appended to, never cut
back to a checkpoint) still starts, and the outcome whose line was cut is written whole."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import orjson

from connectors.outbox import SqliteOutbox
from connectors.serve.runtime import LiveRuntime, ServeOptions
from engine.events import Action, ActionStatus
from engine.rules import RuleSet


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

