"""The metric operator: warm-up, detection, online scoring, routing, rejection and memory."""

from __future__ import annotations

import itertools
import json
import math
import random

from engine.detect.baseline import SeriesConfig, SeriesModel
from engine.detect.metric import MetricDetector, score_series
from engine.events import AnomalyKind, MetricPoint, Rejected, stable_id
from engine.rules.detectors import DetectorRules

T0 = 1_764_115_200.0


def _noise(n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [100.0 + rng.gauss(0.0, 2.0) for _ in range(n)]


def test_scores_are_none_during_warm_up() -> None:
    scores = score_series([T0 + 60 * i for i in range(40)], _noise(40, 1))
    assert scores[:30] == [None] * 30
    assert all(s is not None for s in scores[30:])


def test_a_single_point_spike_is_reported_with_its_band() -> None:
    values = _noise(500, 2)
    values[400] = 160.0
    op = MetricDetector.from_rules(DetectorRules())
    points = [MetricPoint(T0 + 60 * i, "latency", v, {"service": "api"})
              for i, v in enumerate(values)]
    _, out = op.process(op.initial_state(), points, now=points[-1].ts)
    spike = [a for a in out if a.ts == points[400].ts]
    assert len(spike) == 1
    anomaly = spike[0]
    assert anomaly.kind is AnomalyKind.METRIC
    assert anomaly.id == stable_id("an", "metric", points[400].key, points[400].ts)
    assert anomaly.node == "api"
    lo, hi = anomaly.detail["band"]
    assert lo < 100.0 < hi < 160.0
    assert DetectorRules().metrics[0].threshold <= anomaly.score < 1.0
    assert len(out) <= 3  # stationary noise around it stays quiet


def test_scoring_is_strictly_online() -> None:
    values = _noise(300, 3)
    ts = [T0 + 60 * i for i in range(300)]
    whole = score_series(ts, values)
    prefix = score_series(ts[:200], values[:200])
    assert whole[:200] == prefix  # the future never changes a past score


def test_level_shift_is_reported_once_not_every_point() -> None:
    values = _noise(600, 4) + [v + 40.0 for v in _noise(200, 5)]
    scores = score_series([T0 + 60 * i for i in range(800)], values)
    threshold = SeriesConfig().report_score
    reported = [i for i, s in enumerate(scores) if s is not None and s >= threshold]
    assert reported
    assert reported[0] == 600
    assert len(reported) <= 5


def test_rule_routing_and_halfspacetrees_option() -> None:
    rules = DetectorRules.model_validate({"metrics": [
        {"match": {"__name__": "q"}, "detector": "halfspacetrees", "min_samples": 5}]})
    op = MetricDetector.from_rules(rules)
    points = [MetricPoint(T0 + i, "q", float(i % 4), {}) for i in range(20)]
    points += [MetricPoint(T0 + i, "other", 1.0, {}) for i in range(5)]
    state, _ = op.process(op.initial_state(), points, now=T0 + 20)
    assert state.series['q{}'].rule == 0
    assert state.series['other{}'].model is None  # no rule matches: not scored


def test_non_finite_values_are_rejected_not_raised() -> None:
    op = MetricDetector()
    _, out = op.process(op.initial_state(), [MetricPoint(T0, "x", math.nan, {})], now=T0)
    assert isinstance(out[0], Rejected)


def test_series_cap_forgets_the_least_recently_seen() -> None:
    op = MetricDetector.from_rules(DetectorRules(max_series=2))
    points = [MetricPoint(T0 + i, f"m{i}", 1.0, {}) for i in range(3)]
    state, _ = op.process(op.initial_state(), points, now=T0 + 3)
    assert sorted(state.series) == ["m1{}", "m2{}"]


def test_model_state_round_trips_as_plain_data() -> None:
    cfg = SeriesConfig()
    model = SeriesModel(cfg)
    for i, v in enumerate(_noise(100, 6)):
        model.step(T0 + 60 * i, v)
    copy = SeriesModel.from_dict(cfg, model.to_dict())
    assert [copy.step(T0 + 6000.0, 130.0)] == [model.step(T0 + 6000.0, 130.0)]


def _daily_job_series(extra: dict[int, float],
                      job: float = 20.0) -> tuple[list[float], list[float]]:
    """Five-minute noise (10, sd 0.5) with a job's spike to ``job`` near 03:00 every day (its
    start jitters by up to 25 minutes) plus ``extra`` values at given rows."""
    rng = random.Random(11)
    ts = [T0 + 300.0 * i for i in range(7 * 288)]
    values = [10.0 + rng.gauss(0.0, 0.5) for _ in ts]
    for day in range(7):
        values[day * 288 + 36 + rng.randrange(-5, 6)] = job
    for row, value in extra.items():
        values[row] = value
    return ts, values


def _reported(cfg: SeriesConfig, ts: list[float], values: list[float]) -> list[int]:
    model = SeriesModel(cfg)
    scores = [model.step(t, v) for t, v in zip(ts, values, strict=True)]
    return [i for i, s in enumerate(scores) if s is not None and s >= cfg.report_score]


def test_a_daily_job_spike_is_news_once_but_other_spikes_still_are() -> None:
    other, bigger = 5 * 288 + 264, 6 * 288 + 36  # 22:00 on day 5; a 03:00 spike 6x as high
    ts, values = _daily_job_series({other: 20.0, bigger: 70.0})
    jobs = [i for i, v in enumerate(values) if v >= 20.0 and i != other]
    remembered = set(_reported(SeriesConfig(), ts, values)) & set(jobs)
    plain = set(_reported(SeriesConfig(recur_slots=0), ts, values)) & set(jobs)
    assert len(plain) >= 5  # without the memory the job is reported day after day
    assert remembered == {jobs[0], bigger}  # with it: the first time, and the larger spike
    assert other in _reported(SeriesConfig(), ts, values)


def test_a_daily_spike_extreme_against_the_slow_variance_is_reported_every_day() -> None:
    ts, values = _daily_job_series({}, job=60.0)  # 100 sd of the noise: the slow view's z ~40
    jobs = [i for i, v in enumerate(values) if v >= 60.0]
    reported = set(_reported(SeriesConfig(), ts, values)) & set(jobs)
    assert len(reported) >= 5  # the recurrence memory does not zero the slow view
    assert set(_reported(SeriesConfig(slow_weight=0.0), ts, values)) & set(jobs) == {jobs[0]}


def test_a_fitted_tail_scores_heavy_tailed_noise_lower_but_still_reports_a_huge_spike() -> None:
    rng = random.Random(12)
    ts = [T0 + 60.0 * i for i in range(3000)]
    pareto = [100.0 + rng.choice((-1.0, 1.0)) * rng.paretovariate(1.5) for _ in ts]
    pareto[2500] = 10_000.0
    heavy = _scores(SeriesConfig(season_slots=0), ts, pareto)
    assert heavy[2500] >= SeriesConfig().report_score
    # the heavy tail's big surprises are its normal: the fitted tail scores them lower than a
    # Gaussian's (the slow view, which knows no tail, is left out to compare the tails alone)
    tails = SeriesConfig(season_slots=0, slow_weight=0.0)
    heavy = _scores(tails, ts, pareto)
    rng = random.Random(12)
    gauss = [100.0 + rng.gauss(0.0, 1.0) for _ in ts]
    light = _scores(tails, ts, gauss)

    def top(values: list[float], scores: list[float]) -> float:
        return sum(scores[i] for i in sorted(range(300, 2500),
                                             key=lambda i: -abs(values[i] - 100.0))[:20])

    assert top(pareto, heavy) < top(gauss, light)


def test_a_gaussian_spike_scores_higher_with_every_sigma() -> None:
    rng = random.Random(5)
    ts = [T0 + 60.0 * i for i in range(2000)]
    noise = [100.0 + rng.gauss(0.0, 1.0) for _ in ts]

    def spike(sigmas: float) -> float:
        values = list(noise)
        values[1500] += sigmas
        return _scores(SeriesConfig(season_slots=0), ts, values)[1500]

    scores = [spike(sigmas) for sigmas in (6.0, 7.0, 8.0, 9.0)]
    assert scores[2] >= SeriesConfig().report_score  # 8 sigma is reported
    # the extrapolation reads the spike's exact size, not its histogram bin: every sigma counts
    assert all(a < b for a, b in itertools.pairwise(scores))


def _scores(cfg: SeriesConfig, ts: list[float], values: list[float]) -> list[float]:
    model = SeriesModel(cfg)
    return [s or 0.0 for s in (model.step(t, v) for t, v in zip(ts, values, strict=True))]


def test_agreeing_views_of_the_series_state_add_up() -> None:
    rng = random.Random(14)
    ts = [T0 + 60.0 * i for i in range(700)]
    values = [100.0 + rng.gauss(0.0, 2.0) + (6.0 if i >= 500 else 0.0) for i in range(700)]
    plain = SeriesConfig(season_slots=0, corroboration=0.0)
    alone = _scores(plain, ts, values)
    together = _scores(SeriesConfig(season_slots=0), ts, values)
    bar = plain.report_score
    found = [min(i for i in range(500, 520) if s[i] >= bar) for s in (together, alone)]
    assert found[0] <= found[1]  # the shift is reported no later
    first = min(i for i in range(700) if max(alone[i], together[i]) >= bar)
    assert all(together[i] >= alone[i] for i in range(31, first))


def test_a_level_shift_that_stopped_growing_is_not_news_point_after_point() -> None:
    """An hourly ramp (+3 sd over 30 hours) scored by the level-shift path alone: while its
    statistic plateaus or decays below the report threshold it repeats nothing new, so few
    points after the ramp score 0.15 or more (14 here; 27 when every point repeated it)."""
    rng = random.Random(3)
    ts = [T0 + 3600.0 * i for i in range(500)]
    values = [100.0 + rng.gauss(0.0, 1.0) + 0.1 * min(max(i - 300, 0), 30) for i in range(500)]
    shift_only = SeriesConfig(error_weight=0.0, slow_weight=0.0, range_decades=0.0)
    scores = _scores(shift_only, ts, values)
    after = [s for s in scores[310:360] if s is not None]
    assert max(after) >= 0.3  # the ramp is still seen
    assert sum(s >= 0.15 for s in after) <= 16


def _weekly_rates(outage: int) -> tuple[list[float], list[float]]:
    """Four weeks of an hourly purchase rate: a daily cycle, weekends at half the weekday
    rate, 8% multiplicative noise; an outage (x0.3 for 3 hours) from row ``outage``."""
    rng = random.Random(5)
    ts = [T0 + 3600.0 * i for i in range(28 * 24)]
    values = [200.0 * (1.0 + 0.6 * math.sin(2.0 * math.pi * (i % 24 - 9) / 24))
              * (0.5 if (i // 24) % 7 >= 5 else 1.0) * rng.lognormvariate(0.0, 0.08)
              for i in range(len(ts))]
    for i in range(outage, outage + 3):
        values[i] *= 0.3
    return ts, values


def test_an_outage_on_a_weekly_cycle_is_seen_against_the_week_before() -> None:
    outage = 24 * 24 + 13  # a Monday-like weekday's early afternoon, in week four
    ts, values = _weekly_rates(outage)
    reported = _reported(SeriesConfig(), ts, values)
    assert outage in reported  # the week-ago view: the log ratio is ~10 of its sd
    assert outage not in _reported(SeriesConfig(week_weight=0.0), ts, values)
    late = [i for i in reported if i >= 8 * 24]  # after the view's warm-up, clean hours
    assert len([i for i in late if not outage <= i < outage + 3]) <= 2


def test_the_week_ago_view_runs_only_on_coarse_positive_series() -> None:
    model = SeriesModel(SeriesConfig())
    for i in range(300):
        model.step(T0 + 60.0 * i, 10.0 + i % 3)  # one-minute interval: no week memory
    assert model.week == []
    hourly = SeriesModel(SeriesConfig())
    for i in range(300):
        hourly.step(T0 + 3600.0 * i, 10.0 + i % 3)
    assert len(hourly.week) == 168
    assert hourly.week_n > 0
    hourly.step(T0 + 3600.0 * 300, 0.0)  # a zero: not a positive rate, the memory empties
    assert hourly.week == []
    assert hourly.week_n == 0


def test_an_hourly_model_with_its_week_memory_round_trips_through_json() -> None:
    ts, values = _weekly_rates(24 * 24 + 13)
    cfg = SeriesConfig()
    model = SeriesModel(cfg)
    for t, v in zip(ts[:400], values[:400], strict=True):
        model.step(t, v)
    copy = SeriesModel.from_dict(cfg, json.loads(json.dumps(model.to_dict())))
    rest = list(zip(ts[400:], values[400:], strict=True))
    assert [copy.step(t, v) for t, v in rest] == [model.step(t, v) for t, v in rest]
