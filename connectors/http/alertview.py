"""The alerts this process holds as firing, for ``GET /api/v2/alerts``
(``connectors.http.amv2_alerts``).

The view is fed by the alerts the HTTP ingest endpoints hand to the runtime (the webhook
``/api/v1/alerts`` and ``/api/v2/alerts``): a firing alert is stored by fingerprint (a re-send
replaces it), a resolved one removed. It lists an alert until it is resolved, its ``endsAt``
has passed, or nothing re-sent it for ``stale_after_s`` (the engine's alert horizon, 24 h:
Alertmanager re-sends a firing group every ``repeat_interval``, 4 h by default). Like an
Alertmanager, it is memory only: after a restart the senders' re-sends fill it again. Each
process has its own view (a worker's HTTP replica lists what it was sent).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from engine.correlate.reorder import ALERT_HORIZON_S
from engine.events import Alert, AlertStatus


@dataclass
class AlertView:
    """Firing alerts by fingerprint, with the wall clock each was last received at."""

    stale_after_s: float = ALERT_HORIZON_S
    max_alerts: int = 100_000
    _alerts: dict[str, tuple[Alert, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def apply(self, events: Iterable[object], now: float) -> None:
        with self._lock:
            for event in events:
                if not isinstance(event, Alert):
                    continue
                if event.status is AlertStatus.RESOLVED:
                    self._alerts.pop(event.fingerprint, None)
                elif event.fingerprint in self._alerts or len(self._alerts) < self.max_alerts:
                    self._alerts[event.fingerprint] = (event, now)

    def firing(self, now: float) -> list[tuple[Alert, float]]:
        """The alerts still firing at ``now``, oldest ``startsAt`` first (expired ones go)."""
        with self._lock:
            for key, (alert, seen) in list(self._alerts.items()):
                ended = alert.ends_at is not None and alert.ends_at <= now
                if ended or now - seen > self.stale_after_s:
                    del self._alerts[key]
            held = list(self._alerts.values())
        return sorted(held, key=lambda pair: (starts_of(pair[0]), pair[0].fingerprint))


def starts_of(alert: Alert) -> float:
    return alert.starts_at if alert.starts_at is not None else alert.ts
