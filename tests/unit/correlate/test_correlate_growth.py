"""An incident growing by distinct alerts is re-emitted per share of growth, never loses one."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from engine.correlate.alerts import AlertTrack
from engine.correlate.confirmation import ConfirmPolicy, is_confirmed
from engine.correlate.grouping import Correlator
from engine.correlate.incidents import IncidentRecord
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
    resolves = [replace(a, ts=T0 + 2001, status=AlertStatus.RESOLVED) for a in _storm(2000)]
    state, tail = op.process(state, resolves, now=T0 + 2001 + op.quiet_s)
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


class _CountingBook(dict[str, AlertTrack]):
    """A plain fingerprint map that counts lookups (``is_confirmed`` reads it per alert)."""

    lookups = 0

    def get(self, key: str, default: Any = None) -> Any:
        self.lookups += 1
        return super().get(key, default)

    def __getitem__(self, key: str) -> AlertTrack:
        self.lookups += 1
        return super().__getitem__(key)


def test_a_young_candidate_is_not_scanned_for_loud_alerts() -> None:
    # fails on main: every step read every alert's memory (4,000 lookups here), so a storm of
    # loud alerts was quadratic until the incident confirmed
    record = IncidentRecord("inc-1", opened_at=T0, last_ts=T0 + 100)
    book = _CountingBook()
    for alert in _storm(2000):
        loud = replace(alert, severity=Severity.ERROR)
        record.add_alert(loud)
        book[alert.fingerprint] = AlertTrack(True, alert.ts, alert.ts)
    policy = ConfirmPolicy(confirm_s=300.0)
    assert not is_confirmed(record, book, T0 + 299, policy)
    assert book.lookups == 0
    assert is_confirmed(record, book, T0 + 300, policy)  # the first alert fired 300 s ago
