"""Rule section ``runtime``: how the engine protects itself (late data, cardinality, HTTP limits).

Example::

    runtime:
      allowed_lateness: 5m      # events older than (max event time - 5m) of their source are late
      late_events: dead_letter  # or "accept": keep them, counted as too late
      idle_source: 30s          # a source silent this long stops holding the watermark back
      max_clock_skew: 10m       # a producer this far behind its source's median producer stops
                                # holding the source's event time back (counted as skewed)
      max_producers: 10000      # producers (hosts) tracked per source; least recently seen evicted
      incident_hold_s: 5s       # the incident stage waits this long (event time) behind the
                                # slowest upstream partition before it groups events
      max_series: 100000        # live metric series / log templates per worker
      series_idle: 1h           # a series unseen for this long (event time) is evicted
      http:
        max_body_bytes: 1048576
        max_alerts_per_request: 1000
        max_json_depth: 64
        max_connections: 1000    # open connections per process (503 past it)
        header_timeout: 10s      # a request head must arrive within this (also keep-alive idle)
        body_timeout: 30s        # a request body must arrive within this (408)
        max_streams: 100         # open event streams (console tabs) per process (503 past it)
        max_requests_per_connection: 1000
        allowed_hosts: [vigil.example.org]  # Host names served besides localhost and IPs
        max_silence_duration: 90d
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from engine.rules.base import DurationS, StrictModel

LatePolicy = Literal["dead_letter", "accept"]
"""What happens to an event older than its source's watermark: dead letter, or keep it."""


class HttpLimits(StrictModel):
    """Limits of the HTTP API's write endpoints."""

    max_body_bytes: Annotated[int, Field(ge=1)] = 1_048_576
    """Larger request bodies get 413 before they are read in full (silences, acknowledgements;
    the ingest endpoints have ``max_ingest_body_bytes``)."""
    max_ingest_body_bytes: Annotated[int, Field(ge=1)] = 32 * 1_048_576
    """Body limit of the ingest endpoints (Alertmanager webhook and v2 alerts, remote write,
    OTLP, changes), after ``Content-Encoding`` is undone. Alertmanager sends a whole group in
    one notification by default (``max_alerts: 0``), so this is large; larger gets 413."""
    max_alerts_per_request: Annotated[int, Field(ge=1)] = 100_000
    """Alertmanager payloads with more alerts than this get 413."""
    ingest_batch_events: Annotated[int, Field(ge=1)] = 1000
    """A request's decoded events reach the runtime in batches of at most this many."""
    max_json_depth: Annotated[int, Field(ge=2)] = 64
    """JSON nested deeper than this gets 400 (guards the decoder's recursion)."""
    max_connections: Annotated[int, Field(ge=1)] = 1000
    """Open connections per process; a connection past it gets 503 + ``Retry-After`` and is
    closed. Never more than the open-file limit (``RLIMIT_NOFILE``) minus a reserve of a quarter
    of it (at least 32), so a flood of connections cannot exhaust file descriptors."""
    header_timeout: DurationS = 10.0
    """A connection is closed when no complete request line and headers arrived within this
    since it opened or since its previous response (slowloris; also the keep-alive idle time)."""
    body_timeout: DurationS = 30.0
    """A request body must arrive in full within this, or the answer is 408."""
    max_streams: Annotated[int, Field(ge=1)] = 100
    """Open event streams (``/api/v1/stream``, one per console tab) per process; past it 503, so
    long-lived streams cannot hold every connection."""
    max_requests_per_connection: Annotated[int, Field(ge=1)] = 1000
    """Past this many requests on one keep-alive connection, the answer says
    ``Connection: close``."""
    allowed_hosts: tuple[str, ...] = ()
    """``Host`` names the API and console answer besides ``localhost``, IP addresses and the
    address they are bound to (anything else gets 421: a guard against DNS rebinding); ``"*"``
    answers any name. Add the names clients use, such as a Kubernetes service or ingress."""
    max_silence_duration: DurationS = 90 * 86400.0
    """A new silence (HTTP API, console) may end at most this long after it is created."""


class RuntimeRules(StrictModel):
    """Event time, cardinality and HTTP settings of every worker (defaults are production-safe)."""

    allowed_lateness: DurationS = 300.0
    late_events: LatePolicy = "dead_letter"
    idle_source: DurationS = 30.0
    """Processing time after which a silent source (or a silent producer within a source)
    stops holding event time back (input watermark and incident stage); shorter pages sooner
    at the end of input, longer waits out slower producers (see deploy/README.md)."""
    max_clock_skew: DurationS = 600.0
    """Lateness is judged per producer (host) within a source, and a source's event time is the
    minimum over its active producers; a producer more than this behind the source's median
    producer is left out of that minimum (so one slow clock cannot stall paging) and, like one
    this far ahead, counted as skewed (``vigil_skewed_producers``)."""
    max_producers: Annotated[int, Field(ge=1)] = 10_000
    """Producers tracked per source; past it the least recently seen one is forgotten (counted,
    ``vigil_producers_evicted_total``) and its next event is late at most, never too late."""
    incident_hold_s: DurationS = 5.0
    """Event time the incident stage stays behind the slowest active upstream partition, for
    anomalies a detector emits after its partition's watermark passed their ts."""
    max_series: Annotated[int, Field(ge=1)] = 100_000
    series_idle: DurationS = 3600.0
    http: HttpLimits = HttpLimits()
