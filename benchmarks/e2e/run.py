"""Write a replay folder and run it through the real ``vigil replay`` code path, in process.

The rules are the shipped ``rules/`` folder with the Slack and PagerDuty receivers switched on
(what a user does to page people). Nothing is sent: the deliverer records every decided action
as delivered, so ``actions`` holds exactly what Vigil decided to send, per receiver.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from connectors.replay import ReplayOptions, replay
from connectors.rulefiles import default_rules_dir, rule_files
from engine.events import Action
from engine.outputs import ActionStatus
from engine.rules import RuleSet, parse_documents

PAGER = "pagerduty-oncall"
CHAT = "slack-oncall"
_ENABLE = re.compile(rf"(name: (?:{PAGER}|{CHAT})\n(?:[ \t]+\w[^\n]*\n)*?[ \t]+enabled: )false")


@dataclass(slots=True)
class Outputs:
    """What one replay wrote (wire dicts) and the actions it decided (with payloads)."""

    anomalies: list[dict[str, Any]]
    incidents: list[dict[str, Any]]
    actions: list[Action]
    dead_letters: int
    elapsed_s: float


def bench_rules() -> RuleSet:
    """The shipped rules with the Slack and PagerDuty routes enabled."""
    folder = default_rules_dir()
    if folder is None:
        raise RuntimeError("no rules/ folder found")
    documents = []
    for path in rule_files([folder]):
        text = path.read_text(encoding="utf-8")
        if "routing:" in text:
            text, n = _ENABLE.subn(r"\1true", text)
            if n != 2:
                raise RuntimeError(f"{path}: could not enable the {CHAT} and {PAGER} receivers")
        documents.append((text, str(path)))
    return parse_documents(documents)


def write_folder(folder: Path, topology: dict[str, Any], records: dict[str, list[Any]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "topology.json").write_bytes(orjson.dumps(topology))
    for name, rows in records.items():
        with (folder / f"{name}.jsonl").open("wb") as fh:
            for row in rows:
                fh.write(orjson.dumps(row) + b"\n")


def run_folder(folder: Path, out: Path, rules: RuleSet) -> Outputs:
    """``vigil replay FOLDER --out OUT`` with a recording deliverer."""
    out.mkdir(parents=True, exist_ok=True)
    decided: list[Action] = []

    def deliver(actions: list[Action]) -> list[Action]:
        done = [
            a
            if a.status is ActionStatus.SUPPRESSED
            else dataclasses.replace(a, status=ActionStatus.DELIVERED, attempts=1)
            for a in actions
        ]
        decided.extend(done)
        return done

    result = replay(folder, out, rules, deliver, ReplayOptions())
    return Outputs(
        anomalies=_read(out / "anomalies.jsonl"),
        incidents=_read(out / "incidents.jsonl"),
        actions=decided,
        dead_letters=result.counts["dead_letters"],
        elapsed_s=result.elapsed_s,
    )


def _read(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
