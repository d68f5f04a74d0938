"""End to end: an upstream data outage makes a model's features go stale; the model's drift
anomalies land in the outage's incident, with the upstream service as the top root cause.

Topology ``payments -calls-> fraud-detector -depends_on-> feature-store -depends_on->
events-db``. At ``OUTAGE_AT_S`` (10 minutes before the hourly drift check) the feature store
starts failing: its error rate and latency jump, and it serves default feature values (amount
0.0, merchant "unknown") to the model, which keeps predicting without a symptom of its own.
The metric detector reports the outage at its onset; the drift checks report at the end of
their hour. The control replays the same stale features with a healthy feature store.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest

from connectors.cli import main
from engine.events import GroundTruth, Prediction
from engine.testing import T0
from testing.scenarios.predictions import generate_predictions

MODEL = "fraud-detector"
OUTAGE_AT_S = 2 * 3600.0 + 3000.0
OUTAGE_END_S = 3 * 3600.0 + 1200.0
STALE_AFTER_S = 120.0  # the feature store's cache expires, then defaults are served
RULES = """
monitoring:
  data_drift:
    method: kolmogorov_smirnov
    features_to_monitor: [{name: amount, threshold: 0.05}, {name: merchant, threshold: 0.05}]
    check_interval: 1h
  actions:
    on_drift_detected: [trigger_retraining_pipeline]
  reference: {first_predictions: 100000}
"""
TOPOLOGY = {
    "nodes": [
        {"id": "payments", "kind": "service"},
        {"id": MODEL, "kind": "model"},
        {"id": "feature-store", "kind": "service"},
        {"id": "events-db", "kind": "datastore"},
    ],
    "edges": [
        {"from": "payments", "to": MODEL, "kind": "calls"},
        {"from": MODEL, "to": "feature-store", "kind": "depends_on"},
        {"from": "feature-store", "to": "events-db", "kind": "depends_on"},
    ],
}
SERIES = {  # (service, metric): (mean, sd, jump during the outage)
    ("feature-store", "error_rate"): (0.01, 0.002, 0.25),
    ("feature-store", "latency_p99_seconds"): (0.05, 0.005, 1.5),
    ("events-db", "latency_p99_seconds"): (0.01, 0.001, 0.0),
    (MODEL, "latency_p99_seconds"): (0.02, 0.002, 0.0),
    ("payments", "latency_p99_seconds"): (0.1, 0.01, 0.0),
}


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))


def _model_rows() -> list[dict]:
    stream = generate_predictions(
        seed=2, n=4 * 1800, rate_per_s=0.5, drift="none", start=T0, label_delay_s=3600.0
    )
    rows = []
    for e in stream:
        if isinstance(e, GroundTruth):
            rows.append({"ts": e.ts, "model": e.model, "id": e.id, "label": e.label})
            continue
        features = dict(e.features)
        if T0 + OUTAGE_AT_S + STALE_AFTER_S <= e.ts < T0 + OUTAGE_END_S:
            features |= {"amount": 0.0, "merchant": "unknown"}
        rows.append(
            {
                "ts": e.ts,
                "model": e.model,
                "version": "4",
                "id": e.id,
                "features": features,
                "prediction": e.prediction,
                "score": e.score,
            }
        )
    return rows


def _metric_rows(outage: bool) -> list[dict]:
    rng = np.random.default_rng(3)
    rows = []
    for t in np.arange(0.0, 4 * 3600.0, 15.0):
        for (service, name), (mean, sd, jump) in SERIES.items():
            value = mean + sd * rng.standard_normal()
            if outage and jump and OUTAGE_AT_S <= t < OUTAGE_END_S:
                value += jump * rng.lognormal(0.0, 0.8)
            labels = {"service": service}
            rows.append({"ts": T0 + float(t), "name": name, "value": value, "labels": labels})
    return rows


def _scenario(base: Path, outage: bool) -> Path:
    folder = base / ("outage" if outage else "control")
    folder.mkdir()
    rows = _model_rows()
    _write_jsonl(folder / "predictions.jsonl", [r for r in rows if "features" in r])
    _write_jsonl(folder / "labels.jsonl", [r for r in rows if "label" in r])
    _write_jsonl(folder / "metrics.jsonl", _metric_rows(outage))
    (folder / "topology.json").write_bytes(orjson.dumps(TOPOLOGY))
    return folder


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("upstream")
    train = generate_predictions(seed=1, n=3000, drift="none", label_delay_s=None)
    _write_jsonl(
        base / "train.jsonl",
        [{**p.features, "score": p.score} for p in train if isinstance(p, Prediction)],
    )
    args = ["reference", "build", "--model", MODEL, "--input", str(base / "train.jsonl")]
    assert main([*args, "--out", str(base / "refs"), "--prediction-column", "score"]) == 0
    (base / "rules.yml").write_text(RULES)
    return base


def _replay(base: Path, outage: bool) -> Path:
    folder = _scenario(base, outage)
    out = base / f"{folder.name}-out"
    args = ["replay", str(folder), "--out", str(out), "--rules", str(base / "rules.yml")]
    assert main([*args, "--references", str(base / "refs"), "--quiet"]) == 0
    return out


def _read(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def _final_incidents(out: Path) -> list[dict]:
    final: dict[str, dict] = {}
    for record in _read(out / "incidents.jsonl"):
        final[record["id"]] = record
    return list(final.values())


def _drift_ids(out: Path) -> set[str]:
    drift = [a for a in _read(out / "anomalies.jsonl") if a["kind"] == "data_drift"]
    assert {a["node"] for a in drift} == {MODEL}
    assert all(T0 + OUTAGE_AT_S < a["ts"] <= T0 + OUTAGE_AT_S + 3600.0 for a in drift)
    return {a["id"] for a in drift}


def test_drift_from_upstream_outage_lands_in_the_outage_incident(base: Path) -> None:
    out = _replay(base, outage=True)
    drift = _drift_ids(out)
    outage = {
        a["id"]
        for a in _read(out / "anomalies.jsonl")
        if a["node"] == "feature-store" and T0 + OUTAGE_AT_S <= a["ts"] < T0 + OUTAGE_END_S
        and not a["detail"].get("outside_band")  # recovery-watch holds are never members
    }
    assert drift
    assert outage
    holders = [i for i in _final_incidents(out) if (drift | outage) & set(i["alerts"])]
    assert len(holders) == 1, "drift and the outage's anomalies must share one incident"
    incident = holders[0]
    assert drift | outage <= set(incident["alerts"])
    assert "noise" not in incident["labels"]
    assert incident["root_causes"][0]["node"] == "feature-store"
    ranks = [c["node"] for c in incident["root_causes"]]
    assert MODEL not in ranks or ranks.index(MODEL) > ranks.index("feature-store")
    # the retrain request waited for the incident record (confirmation hold) and names it
    requests = _read(out / "retrain.jsonl")
    assert [(r["reason"], r["incident"]) for r in requests] == [("data_drift", incident["id"])]


def test_drift_without_upstream_outage_forms_its_own_incident(base: Path) -> None:
    out = _replay(base, outage=False)
    drift = _drift_ids(out)
    holders = [i for i in _final_incidents(out) if drift & set(i["alerts"])]
    assert len(holders) == 1
    assert holders[0]["nodes"] == [MODEL]
    assert set(holders[0]["alerts"]) == drift
    requests = _read(out / "retrain.jsonl")
    assert [r["incident"] for r in requests] == [holders[0]["id"]]
