"""Rule section ``correlation``: how anomalies and alerts are grouped into incidents."""

from __future__ import annotations

from pydantic import Field

from engine.rules.base import DurationS, StrictModel


class CorrelationRules(StrictModel):
    """Grouping windows, topology reach and alert lifecycle settings (durations like ``5m``)."""

    window_s: DurationS = 600.0
    """A member joins an incident whose last activity is at most this long before it."""
    quiet_s: DurationS = 900.0
    """An incident resolves once nothing new happened in it for this long (event time)."""
    max_hops: int = Field(2, ge=0, le=4)
    """Dependency hops (caller -> callee, service -> host) within which two nodes are related;
    past the first hop only through a node of the incident or one never observed."""
    change_lookback_s: DurationS = 1800.0
    """Changes up to this long before an incident's onset are attached to it."""
    forget_after_s: DurationS = 3600.0
    """Resolved incidents are forgotten this long after they resolved."""
    alert_ttl_s: DurationS = 86400.0
    """Alert fingerprints not seen for this long are forgotten (a firing alert not re-sent for
    this long no longer holds its incident open)."""
    flap_window_s: DurationS = 1800.0
    flap_transitions: int = Field(4, ge=2)
    """An alert changing state this many times within ``flap_window_s`` is held as flapping."""
    max_anomalies_per_node: int = Field(8, ge=1)
    """Anomaly records kept per node of an incident (ids are always kept)."""
    confirm_s: DurationS = 300.0
    """An incident opens (pages) once one node's problem lasts this long, an alert of severity
    warning or above fires this long, or ``confirm_nodes`` nodes show it; ``0`` opens at once.
    An incident of only resolved alerts resolves this long after the last resolve."""
    confirm_nodes: int = Field(2, ge=1)
    """Nodes with at least two members each that confirm an incident at once."""
    merge_after_s: DurationS = 180.0
    """A member related to several open incidents merges them only once its node's members
    span this long (a passing blip joins one of them and links nothing); ``0`` merges at once."""
    link_s: DurationS = 180.0
    """A member at a node new to an incident joins it only through a related node of the
    incident that had a member at most this long ago (still misbehaving)."""
    max_span_s: DurationS = 3600.0
    """Bounded span: an incident open longer than this is sealed. Members at its nodes still
    join it; new nodes and merges go elsewhere. ``0``: no bound."""
    recovery_watch_s: DurationS = 14400.0
    """A metric series that went anomalous is watched against its pre-incident band for at
    most this long; while it stays outside, the incident holding it does not resolve. ``0``
    turns the watch off (incidents then resolve ``quiet_s`` after their last anomaly)."""
    recovery_points: int = Field(3, ge=1)
    """Points in a row back inside the pre-incident band that end a series' watch."""
