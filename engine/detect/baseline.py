"""Per-series online baseline and calibrated score: the core every metric detector runs.

``SeriesModel`` keeps three predictors of the next value (an EWMA level, the last value and a
daily-seasonal profile indexed by time of day, so gaps and irregular sampling are fine), tracks
each one's mean absolute error and, per point, uses the one that has predicted best so far. The
profile is trusted after two points a slot or ``season_trust_s`` (4 days) of points at the
series' typical interval, whichever comes first: an hourly series uses its daily cycle from day
5, not day 9. While every value is a non-negative integer (a count), the error scale is at least
``count_unit`` and a range break must exceed the range by more than that: on sparse counts one
event more or less is not news. The surprise ``z = |error| / error_scale`` is calibrated against
the recent distribution of surprises of the same series (``engine.detect.metric_evidence``): the
score is ``d / (d + 5)`` where ``d`` is ``-log10`` of the fraction of recent points at least as
surprising, or, beyond the recent 99th percentile, read on a Weibull tail fitted to the series'
own surprises. So 0.5 means "rarer than 1 in 10^5 recent points" on every series, which lets one
threshold serve all of them. Each point is scored *before* it is learned, and errors are clipped
when learned so an anomaly is not taken as normal. Scores are ``None`` during warm-up.

Four pieces of evidence are weighed, each in decades of rarity (``metric_evidence``: point
surprise or a persistent run, context novelty, range break, level shift), and a fifth, the slow
view, is a floor under their combination: the point's distance from a slow, unclipped EWMA
mean in slow standard deviations (weight ``slow_alpha``, 0.01, as the EWMA z-score), as the
``2 log10 z`` decades Chebyshev's inequality guarantees whatever the distribution. On a
positive series whose typical interval is ``week_min_dt_s`` (15 min) or more, a week-ago
view is a floor too: the log ratio of the point to the same hour a week earlier (168 hourly
means of the log value, learnt clipped), ``z`` against the EWMA of its square, as ``3 log10
z ** 2 - 2.5`` decades (from ``z`` ~ 8 at the rule threshold), counted only while that EWMA
is below the one of the squared log ratio to the point's prediction (the week predicts this
series better than the model does). A value <= 0 empties that memory; a finer series
keeps none.

A daily recurrence memory (``engine.detect.recurrence``) keeps a daily job from being news
every day: a prediction surprise about as large as one remembered near this time of day gives
no point-surprise evidence (the other evidence, and the slow view, still count: a daily spike
extreme against the slow variance, which has mostly forgotten yesterday's, is still news).
After a point scores ``report_score`` or more, the next ``quiet_points`` points of the series
(on a coarse series only those within ``quiet_max_s`` at its typical interval: 12 on an hourly
one) score 0 (one incident, one report) unless their evidence is ``escalate_decades`` rarer
than the report's (an escalation reports; rarities beyond 20 decades are not compared). How
each default was chosen is logged in ``benchmarks/nab/README.md``.
"""

from __future__ import annotations

import math
from typing import Any, Final

from engine.detect.context import ContextModel
from engine.detect.metric_config import SeriesConfig
from engine.detect.metric_evidence import combine, shift_decades, surprise_decades
from engine.detect.recurrence import DAY_S, MIN_BIN, NEVER, remember
from engine.detect.tail import BINS, BINS_PER_OCTAVE, HALF_DECADES, LOWEST_BIN, bin_of
from engine.vocabulary import JsonDict

__all__ = ["STATE_FIELDS", "SeriesConfig", "SeriesModel"]

STATE_FIELDS: Final = (
    "n", "level", "last", "lo", "hi", "err_level", "err_last", "err_season",
    "quiet", "run_surprise", "season", "expected", "scale", "hist", "hist_w", "unlearnt",
    "shift_hi", "shift_lo", "shift_hist", "hist_total", "shift_total", "recur",
    "prev_ts", "dt", "quiet_decades", "integral", "slow_mean", "slow_var", "shift_last",
    "week", "week_var", "week_pred", "week_n", "week_slot", "week_sum", "week_count",
)
WEEK_S: Final = 7 * DAY_S
WEEK_SLOTS: Final = 168  # the week-ago view's memory: one slot per hour of the week
_LOG10_2: Final = math.log10(2.0)


class SeriesModel:
    """Mutable online state of one series; ``step`` scores a point, then learns it.

    Memory is bounded: ~20 scalars, two 64-bin histograms, ``season_slots`` + ``recur_slots``
    floats (+ 168 for the week-ago view of a coarse positive series) and a 2 kB context
    table: measured about 11.5 kB per series with the defaults after 1,500 points
    (8.8 kB without the recurrence memory; tracemalloc, CPython 3.11), plus the context's
    process-wide slot memo (bounded). The week-ago view adds about 5.5 kB to an hourly series
    (6.4 -> 11.9 kB after 1,500 points, measured the same way after the memo was built).

    Examples
    --------
    >>> cfg = SeriesConfig(min_samples=5, season_slots=0)
    >>> model = SeriesModel(cfg)
    >>> scores = [model.step(60.0 * i, 10.0 + (i % 3)) for i in range(40)]
    >>> scores[:5], round(model.step(2400.0, 60.0), 3)
    ([None, None, None, None, None], 0.922)
    """

    __slots__ = ("cfg", "context", *STATE_FIELDS)

    def __init__(self, cfg: SeriesConfig) -> None:
        self.cfg = cfg
        self.n = 0
        self.level = self.last = self.lo = self.hi = 0.0
        self.err_level = self.err_last = self.err_season = 0.0
        self.quiet = 0
        self.run_surprise = [0.0] * cfg.run_points
        self.context = ContextModel(cfg.context)
        self.season: list[float | None] = [None] * cfg.season_slots
        self.expected, self.scale = 0.0, 0.0
        self.hist = [0.0] * BINS
        self.hist_w = 1.0
        self.unlearnt = 1.0  # (1 - error_alpha)^updates: de-biases the young error EWMAs
        self.shift_hi = self.shift_lo = 0.0
        self.shift_hist = [0.0] * BINS
        self.hist_total = self.shift_total = 0.0  # running sums of the two histograms
        # per time-of-day slot: largest surprise bin + recur_decay * day (fades as days pass)
        self.recur = [NEVER] * cfg.recur_slots
        self.prev_ts = 0.0
        self.dt = 0.0  # typical sampling interval: EWMA of the gaps, each at most 4 * dt
        self.quiet_decades = 0.0  # decades of the report that started the quiet period
        self.integral = True  # every value so far a non-negative integer (a count)
        self.slow_mean = self.slow_var = 0.0  # the slow view's unclipped EWMA mean, variance
        self.shift_last = 0.0  # the previous point's level-shift decades
        # the week-ago view: log value per hour of the last week (empty until it runs), the
        # EWMA of the squared log ratio to it and the ratios learnt
        self.week: list[float | None] = []
        self.week_var, self.week_n = 0.0, 0
        self.week_pred = 0.0  # the EWMA of the squared log ratio to the point's prediction
        # this hour's slot and its (clipped) log values so far: committed when the hour ends
        self.week_slot, self.week_sum, self.week_count = -1, 0.0, 0

    def step(self, ts: float, x: float) -> float | None:
        """Score ``x`` at ``ts`` against the state so far, then learn it; ``None`` in warm-up.

        The hot path of every metric series: written with locals and inline arithmetic
        (``a if a > b else b`` is ``max(b, a)``) because each point costs a few microseconds.
        """
        cfg = self.cfg
        n = self.n = self.n + 1
        if n == 1:
            self.level = self.last = self.lo = self.hi = self.slow_mean = x
            self.prev_ts = ts
            self.integral = x >= 0.0 and x == int(x)
            return None
        gap, dt = ts - self.prev_ts, self.dt
        self.prev_ts = ts
        if gap > 0.0:
            gap = gap if gap < 4.0 * dt or dt <= 0.0 else 4.0 * dt
            dt = self.dt = gap if dt <= 0.0 else dt + 0.05 * (gap - dt)
        slots = cfg.season_slots
        slot, seasonal = -1, None
        if slots:
            slot = int((ts % DAY_S) * slots / DAY_S)
            seasonal = self.season[slot]
        # the profile, once trusted: two points a slot, or season_trust_s of typical intervals
        trusted = seasonal if n > 2 * slots or n * dt >= cfg.season_trust_s else None
        lo, hi = self.lo, self.hi
        floor_ref = 1e-9 + 1e-6 * (hi - lo)
        best, scale = self.level, self.err_level
        if self.err_last < scale:
            best, scale = self.last, self.err_last
        if trusted is not None and self.err_season < scale:
            best, scale = trusted, self.err_season
        debias = 1.0 - self.unlearnt
        debias = cfg.error_alpha if cfg.error_alpha > debias else debias
        scale = 1.25 * scale / debias
        self.expected, self.scale = best, scale
        den = scale + (floor_ref + 1e-9 * abs(x))
        if self.integral:
            if x < 0.0 or x != int(x):
                self.integral = False
            elif den < cfg.count_unit:
                den = cfg.count_unit  # a count moves in whole units: one unit is z = 1
        z = abs(x - best) / den
        novelty = self.context.step(x, lo, hi)
        # the slow view: unclipped slow EWMA mean and variance (de-biased while young)
        a, d, var = cfg.slow_alpha, x - self.slow_mean, self.slow_var
        self.slow_mean += a * d
        d *= d
        self.slow_var = (1.0 - a) * (var + a * d)
        slow = 0.0
        # its decades: slow_weight * log10(z ** 2), with weight 1 the rarity Chebyshev's
        # P(|Z| >= z) <= 1 / z ** 2 guarantees for any distribution; at most range_decades
        if d > var > 0.0:  # z > 1
            if n * a < 7.0:
                var /= 1.0 - (1.0 - a) ** (n - 2)
            slow = cfg.slow_weight * math.log10(d / var)
            slow = slow if slow < cfg.range_decades else cfg.range_decades
        if dt >= cfg.week_min_dt_s and cfg.week_weight > 0.0:
            week = self._week(ts, x, best)
            slow = week if week > slow else slow
        warm = n > cfg.min_samples // 2
        shift = self._shift(x, trusted, debias, floor_ref) if warm else 0.0
        grew = shift > self.shift_last
        self.shift_last = shift
        bz, within = 0, 0.5
        if z > 0.0:  # the log-binned histogram's bin, inline (one per point)
            position = math.log2(z) * BINS_PER_OCTAVE
            bz = math.floor(position)
            within = position - bz  # where in its bin z lies, for the tail extrapolation
            bz -= LOWEST_BIN
            bz = 0 if bz < 0 else (bz if bz < BINS else BINS - 1)
        score = None
        if n > cfg.min_samples:
            sbz = bz
            if bz >= MIN_BIN and cfg.recur_slots and remember(
                    self.recur, ts, bz, cfg.recur_reach, cfg.recur_decay, cfg.recur_tolerance):
                sbz = 0  # as surprising as this time of day recently was: not news
            score = self._score(sbz, within, novelty, shift if grew else -shift, x, slow)
        self._learn(x, slot, seasonal, debias)
        if warm:
            w = self.hist_w
            self.hist[bz] += w
            self.hist_total += w
            w = self.hist_w = w / (1.0 - cfg.surprise_alpha)
            if w > 1e9:
                self._renormalise()
        return score

    def _week(self, ts: float, x: float, best: float) -> float:
        """The week-ago view's decades for ``x`` at ``ts`` (``best``: the point's prediction);
        a value <= 0 empties its memory (the series is not a positive rate). Each hour's mean
        log value (learnt clipped) is that hour's reference a week later."""
        week = self.week
        if x <= 0.0:
            if week:
                self.week, self.week_var, self.week_n, self.week_slot = [], 0.0, 0, -1
                self.week_pred = 0.0
            return 0.0
        if not week:
            week = self.week = [None] * WEEK_SLOTS
        slot = int((ts % WEEK_S) * WEEK_SLOTS / WEEK_S)
        if slot != self.week_slot:  # the hour ended: its mean is that hour's reference
            if self.week_count:
                week[self.week_slot] = self.week_sum / self.week_count
            self.week_slot, self.week_sum, self.week_count = slot, 0.0, 0
        ref, lx, decades = week[slot], math.log(x), 0.0
        if ref is not None:
            lx, decades = self._week_ratio(ref, lx, math.log(x / best) if best > 0.0 else 0.0)
        self.week_sum += lx
        self.week_count += 1
        return decades

    def _week_ratio(self, ref: float, lx: float, p: float) -> tuple[float, float]:
        """The log ratio ``lx - ref`` to a week earlier in decades, ``week_weight * log10(z **
        2) - week_offset`` against the EWMA (``slow_alpha``) of its square, at most
        ``range_decades``, and only while that EWMA is below the one of the squared log ratio
        ``p`` to the point's prediction (the week predicts better); then both learnt, clipped
        at ``clip_z``. Returns the log value to remember (clipped) and the decades."""
        cfg = self.cfg
        r, var, k, pred = lx - ref, self.week_var, self.week_n, self.week_pred
        d, p, decades = r * r, p * p, 0.0
        if k >= cfg.week_warm:
            if d > var > 0.0 and var < pred:
                decades = cfg.week_weight * math.log10(d / var) - cfg.week_offset
                decades = decades if decades < cfg.range_decades else cfg.range_decades
            lim = cfg.clip_z * cfg.clip_z
            p = p if p < lim * pred else lim * pred
            if d > lim * var:  # learnt clipped: an outage is not next week's reference
                r, d = math.copysign(math.sqrt(lim * var), r), lim * var
        a = 1.0 / (k + 1) if k * cfg.slow_alpha < 1.0 else cfg.slow_alpha
        self.week_var = var + a * (d - var)
        self.week_pred = pred + a * (p - pred)
        self.week_n = k + 1
        return ref + r, decades

    def _shift(self, x: float, seasonal: float | None, debias: float, floor: float) -> float:
        """Two-sided CUSUM of residuals from the slow reference (the trusted seasonal profile,
        else the level), in decades of its own recent distribution, less ``shift_offset``;
        restarts after a report so one shift is reported once."""
        cfg = self.cfg
        if cfg.shift_weight <= 0.0:
            return 0.0
        ref, err = (self.level, self.err_level) if seasonal is None else (
            seasonal, self.err_season)
        clip = cfg.clip_z
        r = (x - ref) / (1.25 * err / debias + floor)
        r = r if r < clip else clip  # exactly min(clip, r), then max(-clip, r)
        r = r if r > -clip else -clip
        up = self.shift_hi + r - cfg.shift_k
        down = self.shift_lo - r - cfg.shift_k
        up = up if up > 0.0 else 0.0
        down = down if down > 0.0 else 0.0
        self.shift_hi, self.shift_lo = up, down
        c = down if down > up else up
        if c <= 0.0 and cfg.shift_offset >= _LOG10_2:  # bin 0 is never beyond log10(2) decades
            self.shift_hist[0] += self.hist_w
            self.shift_total += self.hist_w
            return 0.0
        b = bin_of(c)
        if self.n <= cfg.shift_warm_points:  # its distribution is still being learnt
            self.shift_hist[b] += self.hist_w
            self.shift_total += self.hist_w
            return 0.0
        decades = shift_decades(b, self.shift_hist, self.shift_total, self.hist_w,
                                cfg.beyond_decades)
        self.shift_hist[b] += self.hist_w
        self.shift_total += self.hist_w
        decades -= cfg.shift_offset
        return cfg.shift_weight * (decades if decades > 0.0 else 0.0)

    def _score(self, bz: int, within: float, novelty: float, shift: float, x: float,
               slow: float) -> float:
        """Combine the evidence (in decades) into the calibrated, quieted score; ``within``
        is where in its bin ``bz`` the surprise lies (0 to 1); ``shift`` is negative when the
        level-shift statistic did not grow since the previous point."""
        cfg = self.cfg
        raw = surprise_decades(bz, within, self.hist, self.hist_total, self.hist_w,
                               cfg.tail_quantile, cfg.tail_k_min, cfg.tail_k_max)
        run = self.run_surprise
        low = raw
        for earlier in run:
            low = earlier if earlier < low else low
        persistent = len(run) * low - cfg.run_offset
        run.append(raw)
        del run[0]
        surprise = raw - cfg.error_offset
        surprise = surprise if surprise > 0.0 else 0.0
        surprise = persistent if persistent > surprise else surprise
        lo, hi = self.lo, self.hi
        reach = cfg.range_tolerance * (hi - lo)
        if self.integral and reach < cfg.count_unit:
            reach = cfg.count_unit  # a count breaks its range by more than one count
        record = 0.0
        if hi > lo and (x > hi + reach or x < lo - reach):
            record = math.log10(self.n)
            record = record if record < cfg.range_decades else cfg.range_decades
        if shift < 0.0:  # a shift that stopped growing is news again only with a surprise
            shift = -shift if surprise > 0.0 else 0.0
        decades = combine(cfg.error_weight * surprise, novelty, shift, record,
                          cfg.corroboration)
        decades = slow if slow > decades else decades  # the slow view is a floor
        score = decades / (decades + HALF_DECADES)
        quiet = self.quiet
        if quiet == 0:
            out = score
            self.quiet_decades = 0.0
        else:
            out = score if decades > self.quiet_decades + cfg.escalate_decades else 0.0
            self.quiet = quiet - 1
        if out >= cfg.report_score:  # beyond 20 decades (score 0.8) rarities are not compared
            self.quiet_decades = decades if decades < 20.0 else 20.0
        if score >= cfg.report_score:
            self.quiet = self._quiet_points()
            self.shift_hi = self.shift_lo = 0.0
        return out

    def _quiet_points(self) -> int:
        """``quiet_points``, or on a coarse series the points of ``quiet_max_s`` at its
        typical interval when that is fewer (an hourly series: 12, not 30 hours)."""
        cfg, dt = self.cfg, self.dt
        if dt > 0.0 and dt * cfg.quiet_points > cfg.quiet_max_s:
            return math.ceil(cfg.quiet_max_s / dt)
        return cfg.quiet_points

    def _learn(self, x: float, slot: int, seasonal: float | None, debias: float) -> None:
        cfg = self.cfg
        a = cfg.error_alpha
        clip = cfg.clip_z / debias  # clip against the de-biased scale
        level, scale = self.level, self.err_level
        e = abs(x - level)
        if scale > 0.0:
            e = clip * scale if clip * scale < e else e
        scale += a * (e - scale)
        self.err_level = scale
        e, s = abs(x - self.last), self.err_last
        if s > 0.0:
            e = clip * s if clip * s < e else e
        self.err_last = s + a * (e - s)
        if seasonal is not None:
            e, s = abs(x - seasonal), self.err_season
            if s > 0.0:
                e = clip * s if clip * s < e else e
            self.err_season = s + a * (e - s)
            self.season[slot] = seasonal + cfg.season_alpha * (x - seasonal)
        elif slot >= 0:
            self.season[slot] = x
        lim = clip * (scale if scale >= 1e-12 else 1e-12)
        d = x - level
        d = d if d < lim else lim
        self.level = level + cfg.level_alpha * (d if d > -lim else -lim)
        self.last = x
        if x < self.lo:
            self.lo = x
        if x > self.hi:
            self.hi = x
        self.unlearnt *= 1.0 - a

    def _renormalise(self) -> None:
        w = self.hist_w
        self.hist = [c / w for c in self.hist]
        self.shift_hist = [c / w for c in self.shift_hist]
        self.hist_total /= w
        self.shift_total /= w
        self.hist_w = 1.0

    def to_dict(self) -> JsonDict:
        return {**{key: getattr(self, key) for key in STATE_FIELDS},
                "context": self.context.to_dict()}

    @classmethod
    def from_dict(cls, cfg: SeriesConfig, data: dict[str, Any]) -> SeriesModel:
        model = cls(cfg)
        for key in STATE_FIELDS:
            value = data[key]
            setattr(model, key, list(value) if isinstance(value, list) else value)
        model.context = ContextModel.from_dict(cfg.context, data["context"])
        return model
