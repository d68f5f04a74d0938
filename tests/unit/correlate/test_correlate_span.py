"""Bounded span: a long-lived incident does not absorb unrelated activity (issue 14)."""

from __future__ import annotations

from engine.correlate.grouping import Correlator
from engine.testing import T0
from testing.examples import EXAMPLE_EDGES, EXAMPLE_NODES, example_anomaly


def test_a_long_lived_incident_does_not_absorb_a_new_fault_hours_later() -> None:
    """Fails on main (snowball): background anomalies kept the first incident alive and a
    fault on a related node three hours later joined it."""
    op = Correlator(nodes=EXAMPLE_NODES, edges=EXAMPLE_EDGES, quiet_s=900, confirm_s=0)
    background = [example_anomaly("web", T0 + 300 * k, 0.99) for k in range(40)]
    fault = [example_anomaly("db", T0 + 3 * 3600 + 60 * k, 0.9999) for k in range(5)]
    events = sorted([*background, *fault], key=lambda a: a.ts)
    state, _ = op.process(op.initial_state(), events, now=T0 + 3 * 3600 + 300)
    holder = {state.member_of[a.id] for a in fault}
    assert len(holder) == 1
    assert holder != {state.member_of[background[0].id]}
    assert state.member_of[background[-1].id] == state.member_of[background[0].id]
