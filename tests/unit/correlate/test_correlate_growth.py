"""An incident growing by distinct alerts is re-emitted per share of growth, never loses one."""

from __future__ import annotations

from engine.correlate.grouping import Correlator
from engine.correlate.placement import reports_growth
from engine.events import Alert, AlertStatus, IncidentStatus, Severity

T0 = 1_764_115_200.0


def _storm(count: int) -> list[Alert]:
    """Distinct firing alerts on one service, one per second (one growing incident)."""
    return [
        Alert(T0 + i, "Spam", AlertStatus.FIRING, Severity.WARNING, f"fp{i:06d}",
              {"service": "api", "request_id": str(i)})
        for i in range(count)
    ]  # fmt: skip


def test_a_storm_of_distinct_alerts_is_re_emitted_per_growth_share_and_keeps_every_alert() -> None:
    # fails on the previous rule (one record per alert: 1,701 records for 2,000 alerts)
    op = Correlator()
    state, out = op.process(op.initial_state(), _storm(2000), now=T0 + 2000)
    state, tail = op.process(state, [], now=T0 + 2000 + op.quiet_s + 1)
    records = [s.incident for s in [*out, *tail]]
    assert {r.id for r in records} == {records[0].id}
    assert 40 <= len(records) <= 60  # 256 members, then 16 per doubling (the 300 s to confirm)
    assert [r.revision for r in records] == list(range(1, len(records) + 1))
    last = records[-1]
    assert last.status is IncidentStatus.RESOLVED
    assert len(last.alerts) == 2000
    assert len(set(last.alerts)) == 2000
    grown = [len(r.alerts) for r in records]
    assert grown == sorted(grown)


def test_every_alert_is_reported_at_once_up_to_the_full_report_size() -> None:
    op = Correlator(confirm_s=0.0, full_report_members=10_000)
    _, out = op.process(op.initial_state(), _storm(400), now=T0 + 400)
    assert len(out) == 400  # the previous behaviour, kept below the limit
    assert all(reports_growth(n, 256) for n in range(1, 257))
    assert sum(reports_growth(n, 256) for n in range(257, 513)) == 16
    assert sum(reports_growth(n, 256) for n in range(513, 1025)) == 16
