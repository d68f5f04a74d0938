"""The whole picture in every worker: incidents and actions of all partitions, de-duplicated.

A worker's pipeline only sees the incident partitions it owns. ``GlobalView`` follows every
partition of ``incidents`` and ``actions`` (``connectors.kafka.follower``, no consumer group)
and feeds what it reads to the worker's incident view (``/api/v1/incidents``, the event stream)
and console recorder, so every worker serves every incident.

Records are published at least once (a worker that crashes before its checkpoint publishes
again on restart), so the view drops repeats: an incident record is taken only if its
``revision`` is newer than the one known for its id (``IncidentView`` keeps the highest), an
action record only once per ``(action id, status)``, and a decided record never overwrites an
outcome (``ConsoleRecorder.record_actions``).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from typing import Final

import orjson
from aiokafka import ConsumerRecord

from connectors.console.recorder import ConsoleRecorder
from connectors.incident_store import IncidentView
from connectors.kafka.action_log import action_from_record
from engine.events import Action, Incident

log = logging.getLogger("vigil.view")

MAX_ACTIONS_SEEN: Final = 200_000


def incident_from_wire(data: object) -> Incident | None:
    """The ``Incident`` of an ``incidents`` record (its ``to_wire`` form); ``None`` otherwise.

    >>> from engine.events import IncidentStatus, RootCause, Severity
    >>> inc = Incident("inc-1", IncidentStatus.OPEN, 1.0, 2.0, Severity.CRITICAL, "db slow",
    ...                ("a-1",), (RootCause("db", 0.9, "service", ("onset",)),), ("db",),
    ...                {"cluster": "c0"}, 3)
    >>> incident_from_wire(orjson.loads(orjson.dumps(inc.to_wire()))) == inc
    True
    >>> incident_from_wire({"id": "inc-1"}) is None
    True
    """
    if not isinstance(data, dict):
        return None
    try:
        return Incident.from_wire(data)
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


class GlobalView:
    """Applies ``incidents``/``actions`` records of every partition to a view and a recorder."""

    def __init__(self, incidents_topic: str, view: IncidentView, recorder: ConsoleRecorder) -> None:
        self.incidents_topic, self.view, self.recorder = incidents_topic, view, recorder
        self.seen_actions: OrderedDict[tuple[str, str], None] = OrderedDict()
        self.skipped = 0
        self.duplicates = 0

    def apply_records(self, topic: str, records: Sequence[ConsumerRecord]) -> None:
        """Follower callback for one partition's batch."""
        if topic == self.incidents_topic:
            self.apply_incidents([self._incident(topic, r) for r in records])
        else:
            self.apply_actions([self._action(topic, r) for r in records])

    def _incident(self, topic: str, record: ConsumerRecord) -> Incident | None:
        try:
            found = incident_from_wire(orjson.loads(record.value or b""))
        except orjson.JSONDecodeError:
            found = None
        if found is None:
            self._skip(topic, record)
        return found

    def _action(self, topic: str, record: ConsumerRecord) -> Action | None:
        found = action_from_record(record.value)
        if found is None:
            self._skip(topic, record)
        return found

    def _skip(self, topic: str, record: ConsumerRecord) -> None:
        self.skipped += 1
        log.warning("view record skipped %s[%d]@%d", topic, record.partition, record.offset)

    def apply_incidents(self, incidents: Sequence[Incident | None]) -> int:
        """Take the newer revisions among ``incidents``; return how many changed the view."""
        known = [i for i in incidents if i is not None]
        changed = self.view.apply(known)
        self.duplicates += len(known) - changed
        self.recorder.observe((), known)  # keeps only revisions newer than the last one
        for incident in known:
            if self.recorder.watermark is None or incident.updated_at > self.recorder.watermark:
                self.recorder.watermark = incident.updated_at  # the console's "now"
        return changed

    def apply_actions(self, actions: Sequence[Action | None]) -> int:
        """Take each ``(id, status)`` once; return how many were new."""
        fresh = []
        for action in actions:
            if action is None:
                continue
            key = (action.id, action.status.value)
            if key in self.seen_actions:
                self.duplicates += 1
                continue
            self.seen_actions[key] = None
            fresh.append(action)
        while len(self.seen_actions) > MAX_ACTIONS_SEEN:
            self.seen_actions.popitem(last=False)
        self.recorder.record_actions(fresh)
        return len(fresh)
