"""Daily recurrence memory: a surprise like one near this time of day recently is not news."""

from __future__ import annotations

from engine.detect.recurrence import DAY_S, NEVER, remember

HOUR_S = 3600.0


def test_a_daily_surprise_recurs_near_the_same_time_but_not_elsewhere() -> None:
    memory = [NEVER] * 96
    assert not remember(memory, 3 * HOUR_S, 30, 4, 1.0, 3)
    assert remember(memory, DAY_S + 3.5 * HOUR_S, 30, 4, 1.0, 3)
    assert not remember(memory, 2 * DAY_S + 9 * HOUR_S, 30, 4, 1.0, 3)


def test_a_clearly_larger_surprise_is_still_news() -> None:
    memory = [NEVER] * 96
    remember(memory, 3 * HOUR_S, 30, 4, 1.0, 3)
    assert not remember(memory, DAY_S + 3 * HOUR_S, 36, 4, 1.0, 3)


def test_the_memory_fades_by_decay_bins_a_day() -> None:
    memory = [NEVER] * 96
    remember(memory, 3 * HOUR_S, 30, 4, 1.0, 3)
    assert remember(memory, 3 * DAY_S + 3 * HOUR_S, 30, 4, 1.0, 3)
    fresh = [NEVER] * 96
    remember(fresh, 3 * HOUR_S, 30, 4, 1.0, 3)
    assert not remember(fresh, 4 * DAY_S + 3 * HOUR_S, 30, 4, 1.0, 3)


def test_the_reach_wraps_around_midnight() -> None:
    memory = [NEVER] * 96
    remember(memory, 23.75 * HOUR_S, 30, 4, 1.0, 3)
    assert remember(memory, DAY_S + 0.25 * HOUR_S, 30, 4, 1.0, 3)  # slot 1 sees slot 95
