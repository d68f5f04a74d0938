"""The latest record of every incident, fed from pipeline outputs; serves the incidents API.

``IncidentView.apply(outputs)`` keeps, per incident id, the record with the highest
``revision`` (a replayed or duplicated older record never overwrites a newer one) and tells
each subscriber about every record that changed the view (the server-sent events stream).
Resolved incidents beyond ``max_resolved`` are forgotten oldest first, so memory is bounded.
A lock makes it safe to apply outputs in the runtime's thread while the API reads it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from engine.events import Incident, IncidentStatus

Listener = Callable[[Incident], None]


@dataclass(slots=True)
class IncidentView:
    """In-memory latest-incident-by-id view.

    >>> from engine.events import Severity
    >>> view = IncidentView()
    >>> inc = Incident("inc-1", IncidentStatus.OPEN, 10.0, 10.0, Severity.CRITICAL, "db", ())
    >>> view.apply([inc]), view.open_count
    (1, 1)
    """

    max_resolved: int = 10_000
    _incidents: dict[str, Incident] = field(default_factory=dict)
    _resolved: OrderedDict[str, None] = field(default_factory=OrderedDict)
    _listeners: list[Listener] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def open_count(self) -> int:
        with self._lock:
            return len(self._incidents) - len(self._resolved)

    def apply(self, outputs: Iterable[object]) -> int:
        """Take the ``Incident`` records among ``outputs``; return how many changed the view."""
        stored: list[Incident] = []
        with self._lock:
            for out in outputs:
                if isinstance(out, Incident) and self._store(out):
                    stored.append(out)
            listeners = list(self._listeners)
        for incident in stored:
            for listener in listeners:
                listener(incident)
        return len(stored)

    def _store(self, incident: Incident) -> bool:
        known = self._incidents.get(incident.id)
        if known is not None and known.revision >= incident.revision:
            return False
        self._incidents[incident.id] = incident
        if incident.status is IncidentStatus.RESOLVED:
            self._resolved[incident.id] = None
            while len(self._resolved) > self.max_resolved:
                oldest, _ = self._resolved.popitem(last=False)
                del self._incidents[oldest]
        else:
            self._resolved.pop(incident.id, None)
        return True

    def get(self, incident_id: str) -> Incident | None:
        with self._lock:
            return self._incidents.get(incident_id)

    def list(self, status: IncidentStatus | None = None, limit: int = 100) -> list[Incident]:
        """Newest first (by ``updated_at``), optionally only those with ``status``."""
        with self._lock:
            chosen = [i for i in self._incidents.values() if status is None or i.status is status]
        chosen.sort(key=lambda i: (i.updated_at, i.id), reverse=True)
        return chosen[:limit]

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` for every record that changes the view; returns an unsubscribe."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                self._listeners.remove(listener)

        return unsubscribe
