"""Log anomalies: never-seen templates, template rate spikes and drops, error-ratio rises.

``LogDetector`` mines templates per service (``labels["service"]`` or ``"unknown"``) with
``engine.ingest.logtemplate.TemplateMiner`` and emits ``Anomaly(kind=LOG)``:

- ``new_template``: a record at ``new_template_min_level`` or above created a template;
- ``rate_spike`` / ``rate_drop``: a template's count in a closed event-time window against its
  EWMA baseline (after ``min_windows`` closed windows of warm-up);
- ``error_ratio``: the service's share of ERROR+ records rose ``error_ratio_delta`` above its
  baseline, by more than chance explains (``engine.detect.logwindow``).

Learning period: a service's first ``learning_s`` of logs (from its first record) teach its
template set and rate baselines and raise nothing. At a cold start every template is new, and
the WARN/ERROR lines a system always writes are its background, not news.

Every log anomaly carries the labels of the service's latest record (cluster, host, ...), so it
is scoped like any other anomaly (the Kafka worker partitions the incident stage by cluster).

Multi-line records are joined here, before mining: a continuation line (see
``engine.ingest.multiline``) is appended to the pending record of its service; the pending
record is mined when the next head line of that service arrives or when the watermark ``now``
has moved past its timestamp (continuation lines carry the head's timestamp or close to it).
Only the head line is templated; the joined text is the sample.

Late records: a record counts in the rate window its timestamp falls in while that window is
open; when it has closed already, the record is still mined (and may be a new template) but
counts in no window, only in the service's ``late`` total (``engine.detect.logwindow``).

Bounds: templates per service are capped (least recently matched evicted, see
``engine.ingest.logtemplate``); at most ``max_services`` services are tracked (beyond it the
service seen longest ago is dropped); rate baselines exist only for live templates. The state
is updated in place for speed and returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from engine.detect.logs_state import LogDetectorState, PendingRecord, ServiceLogs
from engine.detect.logwindow import RateCheck, RateFinding
from engine.events import Anomaly, AnomalyKind, Level, LogRecord, Severity, stable_id
from engine.ingest.logtemplate import TemplateMiner
from engine.ingest.masking import DEFAULT_MASKS, Masker, MaskMemo, MaskPattern
from engine.ingest.multiline import head_line, is_continuation
from engine.operator import OperatorExample, register_example
from engine.rules.logs import LogRules

MAX_GAP_WINDOWS: Final = 1000
"""A silence longer than this many windows skips ahead instead of closing each empty one."""


@dataclass(frozen=True, slots=True)
class LogDetector:
    """Template mining plus new-template, rate and error-ratio anomalies per service.

    Examples
    --------
    >>> det = LogDetector.from_rules(LogRules())
    >>> batch = [LogRecord(100.0, "disk /dev/sda1 failed after 3 retries", Level.ERROR,
    ...                    {"service": "db"}),
    ...          LogRecord(101.0, "disk /dev/sdb2 failed after 5 retries", Level.ERROR,
    ...                    {"service": "db"})]
    >>> state, out = det.process(det.initial_state(), batch, now=101.0)
    >>> out  # the service's first hour (``learning_s``) teaches its templates: no anomalies
    []
    >>> later = [LogRecord(4000.0, "replica db-2 lost quorum", Level.ERROR, {"service": "db"})]
    >>> state, out = det.process(state, later, now=4001.0)
    >>> [(a.detail["reason"], a.subject["template"]) for a in out]
    [('new_template', 'replica db-<*> lost quorum')]
    """

    miner: TemplateMiner = field(default_factory=TemplateMiner)
    check: RateCheck = field(default_factory=lambda: _check_of(LogRules()))
    new_template_min_level: Level = Level.WARN
    multiline: bool = True
    max_services: int = 1000
    learning_s: float = 0.0
    name: str = "log_detector"

    def __post_init__(self) -> None:
        if self.max_services < 1:
            raise ValueError(f"max_services must be >= 1, got {self.max_services}")
        if self.learning_s < 0:
            raise ValueError(f"learning_s must be >= 0, got {self.learning_s}")
        if self.check.window_s <= 0:
            raise ValueError(f"window_s must be > 0, got {self.check.window_s}")

    @classmethod
    def from_rules(cls, rules: LogRules) -> LogDetector:
        masks = (DEFAULT_MASKS if rules.masking is None else
                 tuple(MaskPattern(m.name, m.regex, m.replacement) for m in rules.masking))
        miner = TemplateMiner(similarity=rules.similarity,
                              min_variable_values=rules.min_variable_values,
                              max_templates=rules.max_templates_per_service,
                              masker=Masker(masks))
        return cls(miner, _check_of(rules), Level[rules.new_template_min_level],
                   rules.multiline, rules.max_services, rules.learning_s)

    def initial_state(self) -> LogDetectorState:
        return LogDetectorState()

    def process(self, state: LogDetectorState, batch: Sequence[LogRecord], *,
                now: float) -> tuple[LogDetectorState, list[Anomaly]]:
        out: list[Anomaly] = []
        for record in batch:
            service = record.labels.get("service") or "unknown"
            logs = self._service(state, service, record.ts)
            if self.multiline and logs.pending is not None and is_continuation(record.message):
                logs.pending.lines.append(record.message)
                logs.pending.level = max(logs.pending.level, int(record.level))
                continue
            out.extend(self._flush(service, logs))
            out.extend(self._advance(service, logs, record.ts))
            logs.pending = PendingRecord(record.ts, int(record.level), dict(record.labels),
                                         [record.message])
            if not self.multiline:
                out.extend(self._flush(service, logs))
        for service in sorted(state.services):
            out.extend(self._on_watermark(service, state.services[service], now))
        return state, out

    def _service(self, state: LogDetectorState, service: str, ts: float) -> ServiceLogs:
        logs = state.services.get(service)
        if logs is None:
            if len(state.services) >= self.max_services:
                oldest = min(state.services, key=lambda s: (state.services[s].last_ts, s))
                del state.services[oldest]
            logs = state.services[service] = ServiceLogs(learn_until=ts + self.learning_s)
        if logs.miner.memo is None:
            if state.memo is None or state.memo.masker is not self.miner.masker:
                state.memo = MaskMemo(self.miner.masker)
            logs.miner.memo = state.memo
        logs.last_ts = max(logs.last_ts, ts)
        return logs

    def _on_watermark(self, service: str, logs: ServiceLogs, now: float) -> list[Anomaly]:
        out: list[Anomaly] = []
        if logs.pending is not None and now > logs.pending.ts:
            out.extend(self._flush(service, logs))
        out.extend(self._advance(service, logs, now))
        return out

    def _advance(self, service: str, logs: ServiceLogs, ts: float) -> list[Anomaly]:
        """Close every window of ``service`` that ends at or before ``ts``."""
        window, width = logs.window, self.check.window_s
        if window.start is None:
            return []
        if ts >= window.start + width * MAX_GAP_WINDOWS:
            window.start = ts - (ts - window.start) % width - width
        out = []
        while ts >= window.start + width:
            live = set(logs.miner.templates)
            for finding in self.check.close(window, live):
                if not logs.learning(finding.window_start):
                    out.append(self._rate_anomaly(service, logs, finding))
        return out

    def _flush(self, service: str, logs: ServiceLogs) -> list[Anomaly]:
        pending, logs.pending = logs.pending, None
        if pending is None:
            return []
        message = "\n".join(pending.lines)
        match = self.miner.add(logs.miner, head_line(message))
        window = logs.window
        if window.start is None:
            window.start = pending.ts - pending.ts % self.check.window_s
        if pending.ts < window.start:  # its window closed already: judged without it
            window.late += 1
        else:
            window.counts[match.template_id] = window.counts.get(match.template_id, 0) + 1
            window.total += 1
            window.errors += pending.level >= Level.ERROR
        for gone in [t for t in window.counts if t not in logs.miner.templates]:
            live = logs.miner.resolve(gone)
            moved = window.counts.pop(gone)
            if live in logs.miner.templates:
                window.counts[live] = window.counts.get(live, 0) + moved
        if match.template_id not in logs.samples and len(logs.samples) >= len(
                logs.miner.templates) + 16:
            logs.samples = {t: logs.samples[t] for t in logs.samples if t in logs.miner.templates}
        logs.samples[match.template_id] = message
        logs.labels = dict(pending.labels)
        if (not match.created or pending.level < self.new_template_min_level
                or logs.learning(pending.ts)):
            return []
        return [self._new_anomaly(service, match.template_id, match.template, message, pending)]

    def _new_anomaly(self, service: str, tid: str, template: str, message: str,
                     pending: PendingRecord) -> Anomaly:
        level = Level(pending.level)
        return Anomaly(
            id=stable_id("an", "log", service, tid, "new_template", pending.ts),
            ts=pending.ts, kind=AnomalyKind.LOG, node=service,
            subject={"template": template, "template_id": tid, "service": service},
            score=0.9 if level >= Level.ERROR else 0.7,
            severity=Severity.ERROR if level >= Level.ERROR else Severity.WARNING,
            detail={"reason": "new_template", "level": level.name, "count": 1,
                    "sample": message, "parameters": extract_parameters(template, message)},
            labels=dict(pending.labels))

    def _rate_anomaly(self, service: str, logs: ServiceLogs, finding: RateFinding) -> Anomaly:
        template = logs.miner.templates.get(finding.template_id)
        text = template.text if template is not None else ""
        sample = logs.samples.get(finding.template_id, "")
        return Anomaly(
            id=stable_id("an", "log", service, finding.template_id, finding.reason,
                         finding.window_start),
            ts=finding.window_start + self.check.window_s, kind=AnomalyKind.LOG, node=service,
            subject={"template": text, "template_id": finding.template_id, "service": service},
            score=round(finding.score, 6), severity=finding.severity,
            detail={"reason": finding.reason, "window_start": finding.window_start,
                    "window_s": self.check.window_s, "count": finding.count,
                    "expected": round(finding.expected, 6), "sample": sample,
                    "parameters": extract_parameters(text, sample) if text else []},
            labels=dict(logs.labels))


def extract_parameters(template: str, message: str) -> list[str]:
    """The values of a template's ``<*>`` slots in ``message`` (empty if it does not fit).

    >>> extract_parameters("disk <*> failed after <*> retries", "disk sda failed after 3 retries")
    ['sda', '3']
    """
    from engine.ingest.logtemplate import parameters_of

    return parameters_of(template, head_line(message))


def _check_of(rules: LogRules) -> RateCheck:
    return RateCheck(rules.window_s, rules.min_windows, rules.baseline_alpha, rules.min_count,
                     rules.spike_factor, rules.drop_fraction, rules.error_ratio_delta,
                     rules.error_ratio_p)


def _example_batch() -> list[LogRecord]:
    from engine.testing import T0

    records = []
    for minute in range(14):
        per_minute = 40 if minute == 12 else 4
        for i in range(per_minute):
            ts = T0 + minute * 60 + i * (50 / per_minute)
            records.append(LogRecord(ts, f"GET /api/items/{i} 200 in {i + 3}ms", Level.INFO,
                                     {"service": "api"}))
        records.append(LogRecord(T0 + minute * 60 + 55, f"cache miss for key k{minute}",
                                 Level.INFO, {"service": "cache"}))
    records.append(LogRecord(T0 + 801, "payment failed: card 4242 declined", Level.ERROR,
                             {"service": "api"}))
    records.append(LogRecord(T0 + 801.5, "\tat com.pay.Gateway.charge(Gateway.java:42)",
                             Level.ERROR, {"service": "api"}))
    records.append(LogRecord(T0 + 802, "GET /api/items/9 200 in 4ms", Level.INFO,
                             {"service": "api"}))
    return records


register_example(OperatorExample(
    name="log_detector", make_operator=lambda: LogDetector.from_rules(LogRules()),
    make_batch=_example_batch, state_type=LogDetectorState, now=0.0))
