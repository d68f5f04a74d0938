from __future__ import annotations

from engine.correlate.alerts import AlertBook, AlertPolicy, Verdict, forget_alerts, observe_alert
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
