"""Any arrival order of the same events, with re-deliveries, released by any watermark sequence
that keeps its promise, gives the correlator the same incidents (ids, members, status)."""

from __future__ import annotations

import random
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.correlate.grouping import Correlator
from engine.correlate.reorder import EventReorder
from engine.events import IncidentSnapshot, TopologyEdge
from engine.testing import T0
from testing.examples import example_alert, example_anomaly

NODES = [f"s{i}" for i in range(6)]
EDGES = tuple(TopologyEdge(f"s{i}", f"s{j}") for i, j in [(0, 1), (1, 2), (3, 2), (4, 5)])
CORRELATOR = Correlator(edges=EDGES, window_s=300, quiet_s=600, max_hops=1, confirm_s=0)
REORDER = EventReorder(dedupe_horizon_s=7200.0)

raw_event = st.tuples(
    st.integers(0, 3600).map(lambda s: s - s % 30),  # coarse ts: many share one
    st.sampled_from(NODES),
    st.sampled_from(["anomaly", "anomaly", "firing", "resolved"]),
)


def _events(raw: list[tuple[int, str, str]]) -> list[object]:
    out: dict[object, object] = {}
    for offset, node, what in raw:
        if what == "anomaly":
            event = example_anomaly(node, T0 + offset, 0.99)
        else:
            event = example_alert(T0 + offset, what, node=node)
        out[(what, node, offset)] = event
    return list(out.values())


def _final(snapshots: list[IncidentSnapshot]) -> dict[str, tuple[object, ...]]:
    last = {s.incident.id: s.incident for s in snapshots}
    return {i: (inc.status, sorted(inc.alerts), inc.nodes) for i, inc in last.items()}


def _run(arrivals: list[object], cuts: list[int]) -> dict[str, tuple[object, ...]]:
    """Feed ``arrivals`` in chunks; each chunk's watermark is just below the earliest event
    still to come (the promise a watermark makes); at the end time moves to the newest event."""
    reorder_state, corr_state = REORDER.initial_state(), CORRELATOR.initial_state()
    out: list[IncidentSnapshot] = []
    bounds = [0, *sorted(set(cuts)), len(arrivals)]
    for start, end in pairwise(bounds):
        rest = arrivals[end:]
        now = min(e.ts for e in rest) - 1 if rest else max(e.ts for e in arrivals)
        reorder_state, released = REORDER.process(reorder_state, arrivals[start:end], now=now)
        corr_state, snaps = CORRELATOR.process(corr_state, released, now=now)
        out += snaps
    return _final(out)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(raw_event, min_size=1, max_size=40),
    st.randoms(use_true_random=False),
    st.lists(st.integers(0, 60), max_size=6),
)
def test_any_interleaving_with_redeliveries_gives_the_same_incidents(
    raw: list[tuple[int, str, str]], rnd: random.Random, cuts: list[int]
) -> None:
    events = _events(raw)
    reference = _run(sorted(events, key=lambda e: (e.ts, type(e).__name__)), [])
    arrivals = [*events, *rnd.sample(events, k=rnd.randint(0, len(events)))]
    rnd.shuffle(arrivals)
    assert _run(arrivals, [c % (len(arrivals) + 1) for c in cuts]) == reference
    assert sum(len(v[1]) for v in reference.values()) <= len(events)
