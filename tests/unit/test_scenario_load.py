"""``vigil load SCENARIO_DIR``: what it produces (order, keys, timestamps, values), no broker."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from connectors.cli import build_parser, main
from connectors.files import ReadProgress
from connectors.kafka.decoder import decode_batch
from connectors.kafka.scenario_load import LoadRecord, scenario_records
from engine.events import InputKind, series_key

T0 = 1_764_115_200.0
TOPOLOGY = {"nodes": ["checkout", "payments"], "edges": [{"from": "checkout", "to": "payments"}]}
LABELS = {"service": "checkout", "host": "node-1", "cluster": "eu-1"}


def _write(folder: Path, files: dict[str, list[object]]) -> Path:
    folder.mkdir()
    for name, rows in files.items():
        (folder / name).write_bytes(
            b"".join(r if isinstance(r, bytes) else orjson.dumps(r) + b"\n" for r in rows)
        )
    return folder


def _scenario(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "in",
        {
            "topology.json": [TOPOLOGY],
            "metrics.jsonl": [
                {"ts": T0 + 10, "name": "latency", "value": 1.0, "labels": LABELS},
                {"ts": T0 + 30, "name": "latency", "value": 2.0, "labels": LABELS},
                {"name": "latency", "value": 3.0, "labels": LABELS},  # no ts: the previous one
            ],
            "logs.jsonl": [{"ts": T0 + 20, "message": "boom", "labels": {"service": "payments"}}],
            "predictions.jsonl": [{"ts": T0 + 5, "model": "fraud", "id": "1", "prediction": 1}],
            "labels.jsonl": [{"ts": T0 + 40, "model": "fraud", "id": "1", "label": 0}],
            "alerts.jsonl": [{"ts": T0 + 25, "name": "High", "fingerprint": "f1", "labels": {}}],
            "changes.jsonl": [{"ts": T0 + 15, "kind": "deploy", "service": "payments"}],
        },
    )


def _records(folder: Path) -> tuple[list[LoadRecord], ReadProgress]:
    progress = ReadProgress()
    return list(scenario_records(folder, progress)), progress


def test_topology_first_stamped_before_the_first_event_then_event_time_order(
    tmp_path: Path,
) -> None:
    records, progress = _records(_scenario(tmp_path))
    assert progress.rejected == []
    assert [(r.topic, r.timestamp_ms) for r in records] == [
        ("topology", round((T0 + 4) * 1000)),
        ("predictions", round((T0 + 5) * 1000)),
        ("metrics", round((T0 + 10) * 1000)),
        ("changes", round((T0 + 15) * 1000)),
        ("logs", round((T0 + 20) * 1000)),
        ("alerts", round((T0 + 25) * 1000)),
        ("metrics", round((T0 + 30) * 1000)),
        ("metrics", round((T0 + 30) * 1000)),  # a line without ts: the previous line's
        ("labels", round((T0 + 40) * 1000)),
    ]
    assert orjson.loads(records[0].value) == {**TOPOLOGY, "ts": T0 + 4}
    # other values are the lines as written (a missing ts stays missing: the record time)
    assert orjson.loads(records[-2].value) == {"name": "latency", "value": 3.0, "labels": LABELS}


def test_keys_are_what_the_worker_partitions_by(tmp_path: Path) -> None:
    records, _ = _records(_scenario(tmp_path))
    keys = {r.topic: r.key for r in records}
    assert keys == {
        "topology": b"topology",
        "metrics": series_key("latency", LABELS).encode(),
        "logs": b"payments",
        "predictions": b"fraud",
        "labels": b"fraud",
        "alerts": b"f1",
        "changes": b"payments",
    }


def test_a_topology_with_its_own_ts_keeps_it(tmp_path: Path) -> None:
    topology = {**TOPOLOGY, "ts": T0 + 12}
    folder = _write(
        tmp_path / "in",
        {
            "topology.json": [topology],
            "metrics.jsonl": [{"ts": T0 + 10 * i, "name": "m", "value": 1.0} for i in range(3)],
        },
    )
    records, _ = _records(folder)
    assert [r.topic for r in records] == ["metrics", "metrics", "topology", "metrics"]
    assert orjson.loads(records[2].value) == topology
    assert records[2].timestamp_ms == round((T0 + 12) * 1000)


def test_a_yaml_topology_becomes_one_json_record(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "topology.yaml").write_text("nodes: [a, b]\nedges:\n  - {from: a, to: b}\n")
    (folder / "metrics.jsonl").write_bytes(orjson.dumps({"ts": T0, "name": "m", "value": 1}))
    records, _ = _records(folder)
    assert [r.topic for r in records] == ["topology", "metrics"]
    assert orjson.loads(records[0].value)["ts"] == T0 - 1


def test_a_batch_line_is_one_record_keyed_by_its_first_event(tmp_path: Path) -> None:
    batch = [
        {"ts": T0, "name": "a", "value": 1.0},
        {"ts": T0 + 1, "name": "b", "value": 2.0},
    ]
    later = {"ts": T0 + 2, "name": "c", "value": 3}
    folder = _write(tmp_path / "in", {"metrics.jsonl": [batch, later]})
    records, _ = _records(folder)
    assert [(r.key, r.timestamp_ms) for r in records] == [
        (series_key("a", {}).encode(), round(T0 * 1000)),
        (series_key("c", {}).encode(), round((T0 + 2) * 1000)),
    ]
    assert orjson.loads(records[0].value) == batch


def test_bad_lines_are_reported_with_file_and_line_not_produced(tmp_path: Path) -> None:
    folder = _write(
        tmp_path / "in",
        {
            "metrics.jsonl": [
                {"ts": T0, "name": "m", "value": 1.0},
                b"{not json\n",
                {"ts": T0 + 1, "name": "m"},
                {"ts": T0 + 2, "name": "m", "value": 2.0},
            ]
        },
    )
    records, progress = _records(folder)
    assert len(records) == 2
    assert [(r.source, r.offset) for r in progress.rejected] == [
        ("metrics.jsonl", 2),
        ("metrics.jsonl", 3),
    ]
    assert "value: required" in progress.rejected[1].error


def test_cli_needs_a_folder_or_rate_and_duration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["load"])
    assert "SCENARIO_DIR" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["load", str(tmp_path), "--rate", "5", "--duration", "1"])
    assert main(["load", str(tmp_path / "missing")]) == 2


def test_the_worker_reads_a_topology_without_ts_at_its_record_time() -> None:
    """What makes the loader's record timestamps matter: no ``ts`` means the Kafka record time
    (docs/events.md), so a topology produced at today's wall clock is in force only from today."""

    @dataclass
    class _Record:
        offset: int
        timestamp: int
        value: bytes

    raw = orjson.dumps(TOPOLOGY)
    events, rejected = decode_batch(
        InputKind.TOPOLOGY, "topology", 0, [_Record(0, round((T0 - 1) * 1000), raw)]
    )
    assert rejected == []
    assert [e.ts for e in events] == [T0 - 1]


def test_generated_load_keeps_its_options() -> None:
    args = build_parser().parse_args(["load", "--rate", "5", "--duration", "2", "--seed", "3"])
    assert (args.scenario, args.rate, args.duration, args.seed) == (None, 5.0, 2.0, 3)
