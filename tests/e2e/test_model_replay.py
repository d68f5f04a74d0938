"""End to end: a model's predictions and late labels through ``vigil reference build`` and
``vigil replay --references``: drift -> anomaly on the model's node -> incident -> retrain."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from connectors.cli import main
from engine.events import GroundTruth, Prediction
from engine.testing import T0
from testing.scenarios.predictions import generate_predictions

MODEL = "fraud-detector"
DRIFT_AT_S = 2 * 3600.0 + 900.0  # 15 minutes into the third hourly window
RULES = """
monitoring:
  data_drift:
    method: kolmogorov_smirnov
    features_to_monitor: [{name: amount, threshold: 0.05}, {name: merchant, threshold: 0.05}]
    check_interval: 1h
  actions:
    on_drift_detected: [trigger_retraining_pipeline, switch_to_fallback_model]
    fallback: {alias: champion, version: "3"}
  reference: {first_predictions: 100000}   # never reached: only a stored profile can monitor
"""
TOPOLOGY = {
    "nodes": [{"id": "payments", "kind": "service"}, {"id": MODEL, "kind": "model"}],
    "edges": [{"from": "payments", "to": MODEL, "kind": "calls"}],
}


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))


def _wire(event: Prediction | GroundTruth) -> dict:
    if isinstance(event, GroundTruth):
        return {"ts": event.ts, "model": event.model, "id": event.id, "label": event.label}
    return {
        "ts": event.ts,
        "model": event.model,
        "version": "4",
        "id": event.id,
        "features": event.features,
        "prediction": event.prediction,
        "score": event.score,
    }


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("model")
    train = generate_predictions(seed=1, n=3000, drift="mean_shift", label_delay_s=None)
    _write_jsonl(
        base / "train.jsonl",
        [{**p.features, "score": p.score} for p in train if isinstance(p, Prediction)],
    )
    stream = generate_predictions(
        seed=2, n=4 * 1800, rate_per_s=0.5, drift_at=DRIFT_AT_S, start=T0, label_delay_s=3600.0
    )
    (base / "in").mkdir()
    _write_jsonl(
        base / "in" / "predictions.jsonl", [_wire(e) for e in stream if type(e) is Prediction]
    )
    _write_jsonl(base / "in" / "labels.jsonl", [_wire(e) for e in stream if type(e) is GroundTruth])
    (base / "in" / "topology.json").write_bytes(orjson.dumps(TOPOLOGY))
    (base / "rules.yml").write_text(RULES)
    args = ["reference", "build", "--model", MODEL, "--input", str(base / "train.jsonl")]
    assert main([*args, "--out", str(base / "refs"), "--prediction-column", "score"]) == 0
    return base


def _replay(base: Path, out: str, *extra: str) -> Path:
    rules = ["--rules", str(base / "rules.yml")]
    with pytest.MonkeyPatch.context() as patch:  # no MLflow here: the fallback is only written
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        args = ["replay", str(base / "in"), "--out", str(base / out), *rules, "--quiet", *extra]
        assert main(args) == 0
    return base / out


def _read(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_stored_reference_detects_drift_into_incident_and_retrain(folders: Path) -> None:
    out = _replay(folders, "out", "--references", str(folders / "refs"))
    drift = [a for a in _read(out / "anomalies.jsonl") if a["kind"] == "data_drift"]
    assert [a["subject"]["feature"] for a in drift] == ["amount"]
    assert drift[0]["node"] == MODEL
    assert T0 + DRIFT_AT_S < drift[0]["ts"] <= T0 + DRIFT_AT_S + 2 * 3600.0
    holders = [i for i in _read(out / "incidents.jsonl") if drift[0]["id"] in i["alerts"]]
    assert holders
    assert all(MODEL in i["nodes"] for i in holders)
    requests = _read(out / "retrain.jsonl")
    assert len(requests) == 1
    request = requests[0]
    assert {"id", "model", "version", "reason", "evidence", "requested_at", "dedup_key"} <= set(
        request
    )
    assert (request["model"], request["version"], request["reason"]) == (MODEL, "4", "data_drift")
    assert request["evidence"]["feature"] == "amount"
    assert request["evidence"]["p_value"] < 1e-6
    control = _read(out / "model_control.jsonl")  # embedded stand-in for the model-control topic
    assert [c["payload"]["mlflow"] for c in control] == [
        {"name": MODEL, "alias": "champion", "version": "3"}
    ]
    finals = {a["id"]: a["status"] for a in _read(out / "actions.jsonl")}
    assert finals == {control[0]["id"]: "delivered"}


def test_without_references_the_model_is_not_monitored_yet(folders: Path) -> None:
    out = _replay(folders, "out-noref")
    assert not [a for a in _read(out / "anomalies.jsonl") if a["kind"] == "data_drift"]
    assert _read(out / "retrain.jsonl") == []


def test_missing_references_folder_is_an_error(folders: Path) -> None:
    assert (
        main(
            [
                "replay",
                str(folders / "in"),
                "--out",
                str(folders / "x"),
                "--references",
                str(folders / "nope"),
            ]
        )
        == 1
    )
