"""What the HTTP API serves from: the runtime builds an ``AppState`` and may change it live."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from aiohttp import web

from connectors.http.alertview import AlertView
from connectors.http.ingest import Decoded, Ingest
from connectors.http.silences import InMemorySilenceStore, SilenceStore
from connectors.incident_store import IncidentView
from connectors.metrics import VigilMetrics
from engine.rules.runtime import HttpLimits

AlertDecoder = Callable[[Any, bytes, float | None], list[Decoded]]
"""``(parsed JSON, raw body, received-at epoch seconds) -> decoded alerts and rejects``
(``received_at``: ``None`` when unknown)."""


@dataclass(slots=True)
class AppState:
    """What the HTTP API serves from; the runtime owns it and may change it while serving."""

    metrics: VigilMetrics = field(default_factory=VigilMetrics)
    incidents: IncidentView = field(default_factory=IncidentView)
    alerts: AlertView = field(default_factory=AlertView)
    """The alerts held as firing, for ``GET /api/v2/alerts`` (fed by ``hand_over``)."""
    silences: SilenceStore = field(default_factory=InMemorySilenceStore)
    ingest: Ingest | None = None
    token: str | None = field(default=None, repr=False)
    limits: HttpLimits = field(default_factory=HttpLimits)
    static_dir: Path | None = None
    decode_alerts: AlertDecoder | None = None
    """Defaults to ``engine.ingest.decode.decode_object`` for ``InputKind.ALERTS``."""
    ready: bool = False
    extra_routes: list[Callable[[web.Application], None]] = field(default_factory=list)
    """Called with the application before the static files are mounted (the console's API)."""
    streams: set[asyncio.Queue[bytes | None]] = field(default_factory=set)
    event_clock: Callable[[], float | None] | None = None
    """Set by ``vigil serve --clock event``: the newest event time accepted (``None`` before
    any), the time an ingest request is received at instead of the wall clock."""

    def mark_ready(self, ready: bool = True) -> None:
        """Called by the runtime once operator state is recovered (``/readyz`` turns 200)."""
        self.ready = ready
        self.metrics.ready.set(1 if ready else 0)


def received_at(state: AppState) -> float | None:
    """When an ingest request is received, for what it does not date itself (an alert
    notification's time, a record without ``ts``): the wall clock, or on an event clock the
    newest event time accepted (``None`` before any: the alerts keep their own times and a
    record without ``ts`` is a dead letter), so a backfill stays in its own time."""
    return time.time() if state.event_clock is None else state.event_clock()


APP_STATE: Final = web.AppKey("vigil_state", AppState)
