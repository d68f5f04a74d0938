from __future__ import annotations

import json

from engine.correlate.alerts import (
    AlertBook,
    AlertPolicy,
    AlertTrack,
    Verdict,
    forget_alerts,
    observe_alert,
)
from engine.events import Alert, AlertStatus, Severity


def _alert(ts: float, status: str, fp: str = "fp1") -> Alert:
    return Alert(ts, "HighLatency", AlertStatus(status), Severity.WARNING, fp)


def test_repeated_firing_is_deduplicated_by_fingerprint() -> None:
    book = AlertBook()
    policy = AlertPolicy()
    verdicts = [observe_alert(book, _alert(t, "firing"), policy) for t in (0, 60, 120)]
    assert verdicts == [Verdict.NEW, Verdict.REFRESH, Verdict.REFRESH]
    assert observe_alert(book, _alert(0, "firing", "fp2"), policy) is Verdict.NEW


def test_resolved_then_firing_again_counts_again() -> None:
    book = AlertBook()
    policy = AlertPolicy(flap_transitions=4)
    seq = [(0, "firing"), (60, "resolved"), (120, "firing")]
    assert [observe_alert(book, _alert(t, s), policy) for t, s in seq] == [
        Verdict.NEW,
        Verdict.RESOLVED,
        Verdict.NEW,
    ]


def test_flapping_alert_is_held_until_stable_for_a_window() -> None:
    book = AlertBook()
    policy = AlertPolicy(flap_window_s=600, flap_transitions=3)
    seq = [(0, "firing"), (60, "resolved"), (120, "firing"), (180, "resolved"), (240, "firing")]
    out = [observe_alert(book, _alert(t, s), policy) for t, s in seq]
    assert out == [Verdict.NEW, Verdict.RESOLVED, Verdict.NEW, Verdict.HELD, Verdict.HELD]
    # stable for more than the window: the next change counts again
    assert observe_alert(book, _alert(1000, "resolved"), policy) is Verdict.RESOLVED


def test_resolved_for_unknown_alert_is_ignored_and_old_fingerprints_forgotten() -> None:
    book = AlertBook()
    policy = AlertPolicy(ttl_s=100)
    assert observe_alert(book, _alert(0, "resolved"), policy) is Verdict.HELD
    observe_alert(book, _alert(0, "firing"), policy)
    forget_alerts(book, 50, policy)
    assert "fp1" in book
    forget_alerts(book, 101, policy)
    assert book == {}


def test_past_the_cap_the_least_recently_seen_fingerprint_is_evicted_and_counted() -> None:
    book = AlertBook()
    policy = AlertPolicy(max_alerts=2)
    for t, fp in [(0, "a"), (10, "b"), (20, "a"), (30, "c")]:  # "a" refreshed: "b" is oldest
        observe_alert(book, _alert(t, "firing", fp), policy)
    assert (sorted(book), book.evicted) == (["a", "c"], 1)
    # an evicted alert that fires again counts as new
    assert observe_alert(book, _alert(40, "firing", "b"), policy) is Verdict.NEW
    assert (sorted(book), book.evicted) == (["b", "c"], 2)


def test_expiry_is_by_last_seen_whatever_the_order_alerts_arrive_in() -> None:
    book = AlertBook()
    policy = AlertPolicy(ttl_s=100)
    for t, fp in [(50, "late"), (0, "early"), (60, "early"), (10, "mid")]:
        observe_alert(book, _alert(t, "firing", fp), policy)
    forget_alerts(book, 111, policy)  # mid (10) expired; late (50) and early (60) kept
    assert sorted(book) == ["early", "late"]
    forget_alerts(book, 155, policy)
    assert sorted(book) == ["early"]


def test_a_restored_book_evicts_and_expires_as_the_live_one() -> None:
    policy = AlertPolicy(ttl_s=1000, max_alerts=50)
    live = AlertBook()
    for i in range(300):  # refreshes leave stale heap entries behind in the live book
        observe_alert(live, _alert(float(i), "firing", f"fp{(i * 7) % 60}"), policy)
    restored = AlertBook.from_dict(json.loads(json.dumps(live.to_dict())))
    for book in (live, restored):
        for i in range(300, 400):
            observe_alert(book, _alert(float(i), "firing", f"fp{(i * 11) % 90}"), policy)
        forget_alerts(book, 1350, policy)
    assert restored.to_dict() == live.to_dict()
    assert live.evicted > 0


def test_a_version_1_book_is_read_and_upgraded() -> None:
    v1 = {"fp1": {"firing": True, "first_ts": 0.0, "last_ts": 5.0, "flips": [5.0]}}
    book = AlertBook.from_dict(v1)
    assert dict(book) == {"fp1": AlertTrack(True, 0.0, 5.0, [5.0])}
    assert (book.evicted, book.version) == (0, 2)
    assert book.to_dict() == {"version": 2, "tracks": v1, "evicted": 0}
    forget_alerts(book, 106, AlertPolicy(ttl_s=100))
    assert len(book) == 0


def test_a_correlator_checkpoint_with_the_old_alert_map_restores() -> None:
    from engine.correlate.grouping import CorrelateState, Correlator
    from engine.testing import T0
    from testing.examples import example_alert

    op = Correlator(confirm_s=0)
    state, _ = op.process(op.initial_state(), [example_alert(T0, "firing")], now=T0)
    data = json.loads(json.dumps(state.to_dict()))
    old = {**data, "alerts": data["alerts"]["tracks"]}  # as written before the alert book
    restored = CorrelateState.from_dict(old)
    assert restored.to_dict() == data
    later = [example_alert(T0 + 60, "firing"), example_alert(T0 + 90, "firing", "db")]
    after_restore, _ = op.process(restored, later, now=T0 + 90)
    after_live, _ = op.process(state, later, now=T0 + 90)
    assert after_restore.to_dict() == after_live.to_dict()
    assert after_live.alerts["fp-api"].last_ts == T0 + 60  # a refresh of the known alert
