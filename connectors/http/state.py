"""What the HTTP API serves from: the runtime builds an ``AppState`` and may change it live."""

from __future__ import annotations

import asyncio
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

AlertDecoder = Callable[[Any, bytes, float], list[Decoded]]
"""``(parsed JSON, raw body, received-at epoch seconds) -> decoded alerts and rejects``."""


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

    def mark_ready(self, ready: bool = True) -> None:
        """Called by the runtime once operator state is recovered (``/readyz`` turns 200)."""
        self.ready = ready
        self.metrics.ready.set(1 if ready else 0)


APP_STATE: Final = web.AppKey("vigil_state", AppState)
