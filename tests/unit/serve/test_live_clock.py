"""``vigil serve`` sees time pass with no input: journaled wall-clock ticks move event time once
every source is idle, so a single alert that is never re-sent still opens an incident."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import orjson
import pytest

from connectors.errors import ConnectorError
from connectors.serve.runtime import LiveRuntime, ServeOptions
from engine.events import Action, Alert, AlertStatus, Severity
from engine.rules import RuleSet

T0 = 1_764_115_200.0


class WallClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def _no_receivers(actions: list[Action]) -> list[Action]:
    return []


def _runtime(state: Path, clock: WallClock) -> LiveRuntime:
    return LiveRuntime(RuleSet(), state, _no_receivers, ServeOptions(wall_clock=clock))


def _incidents(state: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in (state / "incidents.jsonl").open("rb")]


def test_an_alert_never_resent_opens_its_incident_once_the_wall_clock_passes(
    tmp_path: Path,
) -> None:
    clock = WallClock()
    runtime = _runtime(tmp_path, clock)
    alert = Alert(T0, "HighErrorRate", AlertStatus.FIRING, Severity.CRITICAL, "f1",
                  {"alertname": "HighErrorRate", "service": "payments"})
    assert asyncio.run(runtime.ingest([alert]))
    runtime.catch_up()
    for _ in range(40):  # ten minutes of ticks, 15 s apart, and no input
        clock.now += 15.0
        runtime.journal.append([])
        runtime.catch_up()
    runtime.checkpoint()
    assert [i["status"] for i in _incidents(tmp_path)][:1] == ["open"]
    assert runtime.now is not None
    assert T0 + 300.0 <= runtime.now <= clock.now


def test_a_restart_replays_the_journaled_ticks_to_the_same_outputs(tmp_path: Path) -> None:
    clock = WallClock()
    runtime = _runtime(tmp_path / "a", clock)
    alert = Alert(T0, "DiskFull", AlertStatus.FIRING, Severity.CRITICAL, "f2",
                  {"alertname": "DiskFull", "host": "node-1"})
    asyncio.run(runtime.ingest([alert]))
    runtime.catch_up()
    runtime.checkpoint()  # covers the alert only
    for _ in range(40):
        clock.now += 15.0
        runtime.journal.append([])
    runtime.catch_up()
    runtime.writers["incidents"].flush()
    before = (tmp_path / "a" / "incidents.jsonl").read_bytes()
    runtime.journal.close()  # the process dies here: no checkpoint since the alert
    runtime.lock.close()
    clock.now += 3600.0  # the restart comes much later: the journal's clock counts, not this
    restarted = _runtime(tmp_path / "a", clock)
    assert (tmp_path / "a" / "incidents.jsonl").read_bytes() == b""  # cut to the checkpoint
    restarted.catch_up()
    restarted.checkpoint()
    assert (tmp_path / "a" / "incidents.jsonl").read_bytes() == before != b""


def test_a_second_runtime_on_the_same_state_folder_is_refused(tmp_path: Path) -> None:
    first = _runtime(tmp_path, WallClock())
    with pytest.raises(ConnectorError, match="in use by another vigil serve"):
        _runtime(tmp_path, WallClock())
    first.close(drain_s=0.0)
    _runtime(tmp_path, WallClock()).close(drain_s=0.0)


def test_a_journal_removed_under_a_checkpoint_continues_after_its_offset(tmp_path: Path) -> None:
    clock = WallClock()
    runtime = _runtime(tmp_path, clock)
    alert = Alert(T0, "DiskFull", AlertStatus.FIRING, Severity.CRITICAL, "f3", {"host": "n"})
    asyncio.run(runtime.ingest([alert]))
    runtime.catch_up()
    runtime.checkpoint()
    covered = runtime.offset
    runtime.close(drain_s=0.0)
    for segment in (tmp_path / "journal").iterdir():
        segment.unlink()
    restarted = _runtime(tmp_path, clock)
    asyncio.run(restarted.ingest([alert]))
    assert restarted.catch_up() == 1
    assert restarted.offset > covered


def test_a_state_folder_of_snapshot_version_1_resumes(tmp_path: Path) -> None:
    """Written by the first ``vigil serve`` (before the shared runner): a checkpoint after an
    alert and a metric point, then ten minutes of journaled ticks it never processed."""
    shutil.copytree(Path(__file__).parent / "data" / "state-v1", tmp_path, dirs_exist_ok=True)
    clock = WallClock()
    runtime = _runtime(tmp_path, clock)
    assert runtime.catch_up() == 30
    runtime.checkpoint()
    assert [i["status"] for i in _incidents(tmp_path)][:1] == ["open"]
    assert runtime.now is not None
    assert runtime.now >= T0 + 300.0


def test_a_damaged_journal_line_and_an_unknown_event_are_dead_letters_not_a_stop(
    tmp_path: Path,
) -> None:
    clock = WallClock()
    runtime = _runtime(tmp_path, clock)
    alert = Alert(T0, "DiskFull", AlertStatus.FIRING, Severity.CRITICAL, "f4", {"host": "n"})
    runtime.journal.append([alert])
    runtime.journal.close()
    segment = next((tmp_path / "journal").iterdir())
    with segment.open("ab") as handle:  # as a damaged disk or a newer version would leave it
        handle.write(b'{"at": 1.0, "events": [{"t": "hologram", "v": {}}]}\n')
        handle.write(b"\x00\x00garbage\n")
    damaged_end = segment.stat().st_size
    runtime.lock.close()
    restarted = _runtime(tmp_path, clock)
    restarted.journal.append([alert])
    assert restarted.catch_up() == 4  # the alert after them is still run
    restarted.checkpoint()
    letters = [orjson.loads(line) for line in (tmp_path / "dead_letters.jsonl").open("rb")]
    assert [(d["source"], d["error"].split(" (")[0], d["value"]) for d in letters] == [
        ("journal", "journal: cannot read an event back", '{"t":"hologram","v":{}}'),
        ("journal", f"journal: record ending at offset {damaged_end} does not parse",
         "\x00\x00garbage"),
    ]
