"""Model-performance alarms on late labels, end to end through ``vigil replay``.

Run: ``python -m benchmarks.drift_labels`` (or ``--quick``; also ``python -m benchmarks.drift
--part labels``). Each stream comes from ``testing.scenarios.fraud`` with knobs drawn per seed
(positive rate 1-5 %, precision 0.95-0.99, recall 0.90-0.95, 50-90 % labelled), is written as
replay input, gets a reference built with ``vigil reference build``, and is replayed twice
with the user's ``model_monitoring_config.yml``: as is (the confidence-bound alarms and the
change-point scan) and with ``alarm_on: point_estimate`` (the un-controlled rule: value past
the minimum on any sample). Scenario family:

* ``stationary``: 30 days, no change;
* ``concept``: mean shift of ``transaction_amount`` on day 5, concept shift on day 6-9 (precision
  drops to 0.45-0.70), labels 1-3 days late;
* ``delay``: label delay grows from 1-3 to 2-5 days on day 5, concept shift on day 8-10.

Reported: false performance alarms (anomalies before the change starts) per model-year over
all stationary model-days, and the detection delay of the concept shift in hours after it
starts and after the first label that shows it (the first label of a prediction made after
the change), plus the data-drift delay of the mean shift in check intervals (1h). Tuned-on and
held-out seeds are fixed below and both printed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import orjson
import yaml

from connectors.cli import main as vigil
from engine.events import GroundTruth, Prediction
from testing.scenarios.fraud import DAY_S, FraudStream, generate_fraud_stream

TUNED_ON = range(0, 2)
HELD_OUT = range(100, 105)
START = 1_700_000_000.0
USER_CONFIG = (
    Path(__file__).parent.parent / "tests" / "rules" / "good" / "model_monitoring_config.yml"
)
MODES = ("controlled", "point_estimate")


@dataclass(frozen=True, slots=True)
class Outcome:
    """One replay's findings: false alarms, the stationary days they were counted over, delays."""

    false_alarms: int
    stationary_days: float
    delay_after_start_h: float | None
    delay_after_label_h: float | None
    drift_delay_checks: float | None


def stream_for(scenario: str, seed: int) -> FraudStream:
    """The scenario's knobs, drawn from the seed."""
    rng = np.random.default_rng(seed * 7919 + len(scenario))
    base = FraudStream(
        positive_rate=float(rng.uniform(0.01, 0.05)),
        precision=float(rng.uniform(0.95, 0.99)),
        recall=float(rng.uniform(0.90, 0.95)),
        label_fraction=float(rng.uniform(0.5, 0.9)),
        precision_after=float(rng.uniform(0.45, 0.70)),
        start=START,
    )
    if scenario == "stationary":
        return replace(base, days=30.0, concept_shift_day=None, mean_shift_day=None)
    if scenario == "concept":
        return replace(base, concept_shift_day=float(rng.uniform(6.0, 9.0)))
    return replace(
        base,
        delay_days_late=(2.0, 5.0),
        delay_change_day=5.0,
        concept_shift_day=float(rng.uniform(8.0, 10.0)),
    )


def rules_text(mode: str) -> str:
    """The user's file, unchanged, or with the un-controlled rule."""
    text = USER_CONFIG.read_text()
    if mode == "controlled":
        return text
    doc = yaml.safe_load(text)
    doc["monitoring"]["model_performance"]["alarm_on"] = "point_estimate"
    return yaml.safe_dump(doc)


def _wire(e: Prediction | GroundTruth) -> dict[str, object]:
    if type(e) is GroundTruth:
        return {"ts": e.ts, "model": e.model, "id": e.id, "label": e.label}
    assert isinstance(e, Prediction)
    return {
        "ts": e.ts, "model": e.model, "version": "1", "id": e.id,
        "features": e.features, "prediction": e.prediction, "score": e.score,
    }  # fmt: skip


def _jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))


def prepare(folder: Path, stream: FraudStream, seed: int) -> list[Prediction | GroundTruth]:
    """Replay input, rule files and the reference profile for one stream."""
    events = generate_fraud_stream(stream, seed)
    (folder / "in").mkdir(parents=True)
    _jsonl(folder / "in" / "predictions.jsonl", [_wire(e) for e in events if type(e) is Prediction])
    _jsonl(folder / "in" / "labels.jsonl", [_wire(e) for e in events if type(e) is GroundTruth])
    train = FraudStream(days=2.0, concept_shift_day=None, mean_shift_day=None)
    rows = [
        {**e.features, "score": e.score}
        for e in generate_fraud_stream(train, seed + 1_000_000)
        if type(e) is Prediction
    ]
    _jsonl(folder / "train.jsonl", rows)  # type: ignore[arg-type]
    for mode in MODES:
        (folder / f"{mode}.yml").write_text(rules_text(mode))
    with contextlib.redirect_stdout(io.StringIO()):
        args = [
            "reference",
            "build",
            "--model",
            stream.model,
            "--input",
            str(folder / "train.jsonl"),
        ]
        assert vigil([*args, "--out", str(folder / "refs"), "--prediction-column", "score"]) == 0
    return events


def replay(folder: Path, mode: str) -> list[dict[str, object]]:
    """The anomalies of one replay."""
    out = folder / f"out-{mode}"
    args = ["replay", str(folder / "in"), "--out", str(out), "--rules", str(folder / f"{mode}.yml")]
    with contextlib.redirect_stdout(io.StringIO()):
        assert vigil([*args, "--references", str(folder / "refs"), "--quiet"]) == 0
    return [orjson.loads(line) for line in (out / "anomalies.jsonl").read_bytes().splitlines()]


def score(
    stream: FraudStream, events: list[Prediction | GroundTruth], found: list[dict[str, object]]
) -> Outcome:
    """False alarms before the change, delays after it."""
    change = None if stream.concept_shift_day is None else START + stream.concept_shift_day * DAY_S
    perf = sorted(float(a["ts"]) for a in found if a["kind"] == "performance")  # type: ignore[arg-type]
    end = change if change is not None else START + stream.days * DAY_S
    false = sum(1 for ts in perf if ts < end)
    after = [ts for ts in perf if change is not None and ts >= change]
    first_label = None
    if change is not None:
        shown = {e.id for e in events if type(e) is Prediction and e.ts >= change}
        first_label = min(e.ts for e in events if type(e) is GroundTruth and e.id in shown)
    shift = START + (stream.mean_shift_day or 0.0) * DAY_S
    drift = sorted(float(a["ts"]) for a in found if a["kind"] == "data_drift")  # type: ignore[arg-type]
    drift_after = [ts for ts in drift if stream.mean_shift_day is not None and ts > shift]
    return Outcome(
        false,
        (end - START) / DAY_S,
        (after[0] - change) / 3600.0 if after and change is not None else None,
        (after[0] - first_label) / 3600.0 if after and first_label is not None else None,
        (drift_after[0] - shift) / 3600.0 if drift_after else None,
    )


def run_split(name: str, seeds: range, scenarios: tuple[str, ...]) -> None:
    """Every scenario and seed of one split, both modes, and the summary lines."""
    results: dict[str, list[tuple[str, Outcome]]] = {m: [] for m in MODES}
    for scenario in scenarios:
        for seed in seeds:
            stream = stream_for(scenario, seed)
            with tempfile.TemporaryDirectory(prefix="vigil-drift-labels-") as tmp:
                events = prepare(Path(tmp), stream, seed)
                for mode in MODES:
                    results[mode].append((scenario, score(stream, events, replay(Path(tmp), mode))))
    print(f"{name} seeds {seeds.start}-{seeds.stop - 1} ({len(seeds)} per scenario):")
    for mode in MODES:
        _summary(mode, results[mode])


def _summary(mode: str, rows: list[tuple[str, Outcome]]) -> None:
    days = sum(o.stationary_days for _, o in rows)
    false = sum(o.false_alarms for _, o in rows)
    label = (
        "candidate confidence bound + change scan"
        if mode == "controlled"
        else "baseline point estimate"
    )
    print(
        f"  {label:41s} false performance alarms {false} in {days:.0f} stationary model-days"
        f" = {false / days * 365:.2f} per model-year"
    )
    for scenario in ("concept", "delay"):
        outs = [o for s, o in rows if s == scenario]
        if not outs:
            continue
        start = [o.delay_after_start_h for o in outs]
        label_h = [o.delay_after_label_h for o in outs]
        missed = sum(1 for d in start if d is None)
        print(
            f"    {scenario:8s} delay after change h: median {_median(start)} max {_max(start)};"
            f" after first label h: median {_median(label_h)} max {_max(label_h)}; missed {missed}"
        )
    drift = [o.drift_delay_checks for _, o in rows if o.drift_delay_checks is not None]
    if drift:
        print(f"    mean shift data-drift delay (1h checks): max {max(drift):.2f}")


def _median(values: list[float | None]) -> str:
    got = [v for v in values if v is not None]
    return f"{statistics.median(got):.1f}" if got else "-"


def _max(values: list[float | None]) -> str:
    got = [v for v in values if v is not None]
    return f"{max(got):.1f}" if got else "-"


def labels_benchmark(quick: bool) -> None:
    """Both splits; ``quick`` runs the first seed of each only."""
    scenarios = ("stationary", "concept", "delay")
    print("model performance on late labels, end to end (vigil replay, the user's config):")
    for name, seeds in (("tuned-on", TUNED_ON), ("held-out", HELD_OUT)):
        run_split(name, range(seeds.start, seeds.start + 1) if quick else seeds, scenarios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    labels_benchmark(parser.parse_args().quick)


if __name__ == "__main__":
    main()
