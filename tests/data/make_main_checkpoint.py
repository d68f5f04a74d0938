"""Writes ``main_checkpoint.json.gz``: a pipeline snapshot as today's main wrote it (state v1).

Run from a checkout of the commit that writes the old format, with that checkout first on the
path (``cd MAIN && PYTHONPATH=. python /path/to/tests/data/make_main_checkpoint.py OUT``). It
replays the first 85% of a seeded scenario (a bad deploy, logs, model predictions with drift),
snapshots the state, replays the rest and records a digest of those outputs' wire form, so a
test can restore the snapshot with newer code and check it carries on exactly as main did.
"""

from __future__ import annotations

import gzip
import hashlib
import sys

import orjson

try:  # where the generators lived when the fixture was written
    from engine.detect.synthetic_predictions import generate_predictions
    from engine.scenario import generate_scenario
except ImportError:  # today (the module is also imported by pytest's doctest collection)
    from testing.scenarios.predictions import generate_predictions
    from testing.scenarios.shop import generate_scenario

from engine.detect.model import _EXAMPLE_RULES
from engine.events import InputEvent
from engine.pipeline import Pipeline
from engine.rules import parse

CUT = 0.85


def fixture_events() -> list[InputEvent]:
    """The scenario's events and a drifting prediction stream over the same hours, by ts."""
    scenario = generate_scenario(seed=3, n_services=6, n_hosts=2, hours=3.0)
    events: list[InputEvent] = list(scenario.events())
    start = events[0].ts
    events.extend(generate_predictions(seed=5, n=2000, rate_per_s=0.2, drift_at=start + 5400,
                                       start=start))
    return sorted(events, key=lambda e: e.ts)


def fixture_pipeline() -> Pipeline:
    return Pipeline.from_rules(parse(_EXAMPLE_RULES, "fixture"))


def split(events: list[InputEvent]) -> tuple[list[InputEvent], list[InputEvent], float]:
    cut = int(len(events) * CUT)
    return events[:cut], events[cut:], events[cut].ts


def digest(outputs: list[object]) -> str:
    h = hashlib.sha256()
    for o in outputs:
        h.update(orjson.dumps(o.to_wire(), option=orjson.OPT_SORT_KEYS))  # type: ignore[attr-defined]
        h.update(b"\n")
    return h.hexdigest()


def main(out: str) -> None:
    pipeline = fixture_pipeline()
    first, rest, now = split(fixture_events())
    state, _ = pipeline.process(pipeline.initial_state(), first, now=now)
    snapshot = orjson.loads(orjson.dumps(state.to_dict()))
    state, outputs = pipeline.process(state, rest, now=rest[-1].ts)
    doc = {"now": now, "state": snapshot, "outputs": len(outputs), "digest": digest(outputs)}
    with gzip.open(out, "wb") as f:
        f.write(orjson.dumps(doc))


if __name__ == "__main__":
    main(sys.argv[1])
