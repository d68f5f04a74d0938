"""The file receiver after a crash: an action already written is not written again."""

from __future__ import annotations

import io
from pathlib import Path

import orjson

from connectors.notify.file import append_action
from connectors.outbox import SqliteOutbox
from connectors.sender import OutboxDeliverer
from engine.events import Action, ActionStatus
from engine.rules import parse

RULES = """
routing:
  receivers:
    - {name: audit, type: file, path: audit.jsonl}
  route: {receiver: audit, group_wait: 0s, group_interval: 0s, repeat_interval: 0s}
"""


def _action(i: int) -> Action:
    return Action(f"act-{i}", float(i), "inc-1", "audit", "file", "inc-1", {"n": i})


def _deliver(folder: Path, actions: list[Action]) -> list[Action]:
    deliverer = OutboxDeliverer(parse(RULES).routing, folder, env={}, stream=io.StringIO())
    finals = deliverer(actions) + deliverer.flush(max_s=30.0)
    return finals + deliverer.close()


def test_an_action_written_before_a_crash_is_not_written_again_on_restart(
    tmp_path: Path,
) -> None:
    """``vigil serve`` killed between the line and the outbox's record of it: on restart the
    outbox still holds the action as pending and delivers it again (on main: a second line)."""
    first, second = _action(1), _action(2)
    assert [a.status for a in _deliver(tmp_path, [first])] == [ActionStatus.DELIVERED]
    outbox = SqliteOutbox(tmp_path / "outbox.sqlite")  # what the killed process left:
    outbox.put([second])  # the action stored as pending,
    outbox.close()
    append_action("audit", tmp_path / "audit.jsonl", second)  # its line written
    finals = _deliver(tmp_path, [first, second])  # the restart replays its decisions
    assert [(a.id, a.status) for a in finals] == [("act-2", ActionStatus.DELIVERED)]
    lines = [orjson.loads(line)["id"] for line in (tmp_path / "audit.jsonl").open("rb")]
    assert lines == ["act-1", "act-2"]


def test_a_line_cut_short_by_a_crash_does_not_swallow_the_next_action(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    whole = orjson.dumps(_action(1).to_wire(payload=True))
    path.write_bytes(whole + b"\n" + whole[:20])  # killed in the middle of a write
    _deliver(tmp_path, [_action(2)])
    lines = path.read_bytes().split(b"\n")
    assert lines[1] == whole[:20]
    assert orjson.loads(lines[2])["id"] == "act-2"
    assert lines[3:] == [b""]
