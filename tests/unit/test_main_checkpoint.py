"""A pipeline snapshot written by main's code before state was typed (v1, ``{"slots": ...}``)
restores, and the restored pipeline carries on exactly as an uninterrupted run of today's code.

The fixture (``tests/data/main_checkpoint.json.gz``) was written by commit f3864bd with
``tests/data/make_main_checkpoint.py``; it holds the snapshot and a digest of the outputs main
produced after it.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.data.make_main_checkpoint import digest, fixture_events, fixture_pipeline, split

FIXTURE = Path(__file__).parents[1] / "data" / "main_checkpoint.json.gz"


@pytest.fixture(scope="module")
def main_snapshot() -> dict[str, Any]:
    doc: dict[str, Any] = orjson.loads(gzip.decompress(FIXTURE.read_bytes()))
    return doc


def test_main_snapshot_restores_and_carries_on_as_an_uninterrupted_run(
    main_snapshot: dict[str, Any],
) -> None:
    """Restored from main's snapshot, the pipeline gives what today's code gives when it ran the
    same events without a restart (main's own digest of that continuation is in the fixture too:
    it included the recovery watch's holds, which are no longer outputs)."""
    pipeline = fixture_pipeline()
    first, rest, now = split(fixture_events())
    assert now == main_snapshot["now"]
    restored = pipeline.restore_state(main_snapshot["state"])
    _, outputs = pipeline.advance(restored, rest, now=rest[-1].ts)  # main's process (no intake)
    fresh, _ = pipeline.advance(pipeline.initial_state(), first, now=now)
    _, uninterrupted = pipeline.advance(fresh, rest, now=rest[-1].ts)
    assert outputs, "the continuation finds the scenario's late anomalies and incidents"
    assert digest(outputs) == digest(uninterrupted)


def test_restored_snapshot_round_trips(main_snapshot: dict[str, Any]) -> None:
    """What a restored snapshot writes restores to the same state (the upgrade is done once)."""
    pipeline = fixture_pipeline()
    written = orjson.loads(orjson.dumps(pipeline.restore_state(main_snapshot["state"]).to_dict()))
    again = orjson.loads(orjson.dumps(pipeline.restore_state(written).to_dict()))
    assert again == written


def test_each_stage_restores_its_part_of_main_snapshot(main_snapshot: dict[str, Any]) -> None:
    """The Kafka tasks checkpoint one stage each (``DetectStage`` / ``IncidentStage`` state)."""
    pipeline = fixture_pipeline()
    whole = pipeline.restore_state(main_snapshot["state"]).to_dict()
    for name, stage in (("detect", pipeline.detect), ("incident", pipeline.incident)):
        part = main_snapshot["state"]["slots"][name]
        restored = orjson.loads(orjson.dumps(stage.restore_state(part).to_dict()))
        assert restored == orjson.loads(orjson.dumps(whole[name]))


def test_restored_state_is_written_as_version_2(main_snapshot: dict[str, Any]) -> None:
    written = fixture_pipeline().restore_state(main_snapshot["state"]).to_dict()
    assert main_snapshot["state"]["version"] == 1
    assert (written["version"], written["detect"]["version"], written["incident"]["version"]) == (
        2, 2, 2)
    assert written["intake"] == fixture_pipeline().intake.initial_state().to_dict()
    assert set(written["detect"]) == {
        "version", "metrics", "logs", "models", "recovery", "telemetry"}
    assert set(written["incident"]) == {"version", "reorder", "correlate", "rank", "act", "retrain"}
