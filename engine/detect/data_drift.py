"""Data drift check of one closed window: each monitored feature against its reference.

Numeric features get the config's test (Kolmogorov–Smirnov), categorical ones chi-square. The
p-values of one check are adjusted together, then ``engine.detect.alarm`` decides which features
alarm (see there for the alarm control). A feature with fewer than ``min_samples`` values in the
window is not tested at that check.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.detect.alarm import adjust_p_values, evidence_of
from engine.detect.drift import DriftResult, compare_categorical, compare_numeric
from engine.detect.profile import ReferenceProfile
from engine.detect.window import WindowState
from engine.rules.monitoring import DataDrift, MonitoredFeature


@dataclass(frozen=True, slots=True)
class FeatureFinding:
    """The outcome for one feature at one check; ``onset`` means a new alarm fires now."""

    feature: str
    result: DriftResult
    threshold: float
    adjusted_p_value: float
    evidence: float | None
    level: float
    onset: bool


def monitored_features(spec: DataDrift, reference: ReferenceProfile) -> list[MonitoredFeature]:
    """The features the config lists, or every feature of the reference when it lists none."""
    if spec.features_to_monitor:
        return list(spec.features_to_monitor)
    names = sorted([*reference.numeric, *reference.categorical])
    return [MonitoredFeature(name=n) for n in names]


def _test_feature(
    feature: MonitoredFeature, window: WindowState, reference: ReferenceProfile, min_samples: int
) -> DriftResult | None:
    name = feature.name
    if name in reference.numeric:
        sample = window.samples.get(name)
        if sample is None or len(sample) < min_samples or len(reference.numeric[name]) < 2:
            return None
        return compare_numeric(sample, reference.numeric[name])
    ref_counts = reference.categorical.get(name)
    counts = window.counts.get(name)
    if ref_counts is None or counts is None or sum(counts.values()) < min_samples:
        return None
    return compare_categorical(counts, ref_counts)


def check_data_drift(
    window: WindowState,
    reference: ReferenceProfile,
    spec: DataDrift,
    alarms: dict[str, list[float | bool | None]],
) -> list[FeatureFinding]:
    """Test every monitored feature of a closed window; updates ``alarms`` in place.

    ``alarms[feature] = [previous adjusted p-value or None, alarm active]``.
    """
    tested: list[tuple[MonitoredFeature, DriftResult]] = []
    for feature in monitored_features(spec, reference):
        result = _test_feature(feature, window, reference, spec.min_samples)
        if result is None:
            active = bool(alarms.get(feature.name, [None, False])[1])
            alarms[feature.name] = [None, active]
        else:
            tested.append((feature, result))
    adjusted = adjust_p_values([r.p_value for _, r in tested], spec.correction)
    level = spec.check_interval / spec.expected_run_time
    findings: list[FeatureFinding] = []
    for (feature, result), adj in zip(tested, adjusted, strict=True):
        previous, was_active = alarms.get(feature.name, [None, False])
        prev = previous if isinstance(previous, float) else None
        active = bool(was_active)
        evidence = evidence_of(prev, adj, feature.threshold)
        alarming = evidence is not None and evidence < level
        onset = alarming and not active
        alarms[feature.name] = [adj, alarming or (bool(active) and evidence is not None)]
        findings.append(
            FeatureFinding(feature.name, result, feature.threshold, adj, evidence, level, onset)
        )
    return findings
