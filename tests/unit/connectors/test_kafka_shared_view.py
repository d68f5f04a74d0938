"""The global view and the shared silences/acks: records in, de-duplicated state out (no broker)."""

from __future__ import annotations

import orjson
import pytest
from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaConnectionError

from connectors.console.recorder import Acknowledgement, ConsoleRecorder
from connectors.errors import ConnectorError
from connectors.http.silences import SilenceRequest
from connectors.incident_store import IncidentView
from connectors.kafka.control import SharedControl, ack_record, silence_record
from connectors.kafka.view import GlobalView
from engine.act.silence import Silence
from engine.events import Action, ActionStatus, Incident, IncidentStatus, RootCause, Severity


def record(topic: str, offset: int, key: bytes | None, value: bytes | None) -> ConsumerRecord:
    return ConsumerRecord(topic, 0, offset, 0, 0, key, value, None, 0, 0, [])


def incident(revision: int, status: IncidentStatus = IncidentStatus.OPEN) -> Incident:
    causes = (RootCause("db", 0.9, "service", ("onset",)),)
    return Incident(
        "inc-1", status, 10.0, 10.0 + revision, Severity.CRITICAL, "db", ("a-1",), causes,
        ("db",), {"cluster": "c0"}, revision,
    )  # fmt: skip


def action(status: ActionStatus) -> Action:
    return Action("act-1", 11.0, "inc-1", "pd", "trigger", "inc-1", {}, status)


def wire(value: Incident | Action) -> bytes:
    return orjson.dumps(value.to_wire())


def test_view_keeps_the_newest_revision_and_drops_republished_records() -> None:
    view, recorder = IncidentView(), ConsoleRecorder()
    shared = GlobalView("incidents", view, recorder)
    pushed: list[int] = []
    view.subscribe(lambda i: pushed.append(i.revision))
    records = [wire(incident(0)), wire(incident(1)), wire(incident(0)), wire(incident(1))]
    shared.apply_records(
        "incidents", [record("incidents", n, b"c0", v) for n, v in enumerate(records)]
    )
    assert view.get("inc-1") == incident(1)
    assert pushed == [0, 1]  # the event stream saw each revision once
    assert [i.revision for i in recorder.revisions["inc-1"]] == [0, 1]
    assert shared.duplicates == 2
    assert recorder.watermark == 11.0


def test_view_keeps_an_outcome_over_a_later_duplicate_decision() -> None:
    recorder = ConsoleRecorder()
    shared = GlobalView("incidents", IncidentView(), recorder)
    values = [
        wire(action(ActionStatus.DECIDED)),
        wire(action(ActionStatus.DELIVERED)),
        wire(action(ActionStatus.DECIDED)),
        b"not json",
    ]
    shared.apply_records(
        "actions", [record("actions", n, b"inc-1", v) for n, v in enumerate(values)]
    )
    assert recorder.actions["inc-1"]["act-1"].status is ActionStatus.DELIVERED
    assert (shared.duplicates, shared.skipped) == (1, 1)


def test_control_follows_silences_expiry_acks_and_tombstones() -> None:
    seen: list[Acknowledgement] = []
    control = SharedControl(_refuse, on_ack=seen.append)
    silence = Silence.create(["service=db"], starts_at=0.0, ends_at=100.0)
    ack = Acknowledgement("inc-1", "ana", 5.0, "on it")
    values = [silence_record(silence), silence_record(silence.expired_at(50.0)), ack_record(ack)]
    values += [ack_record(ack), (b"ack:inc-2", b"{}")]
    control.apply_records("silences", [record("s", n, k, v) for n, (k, v) in enumerate(values)])
    assert control.active() == [silence.expired_at(50.0)]
    assert control.list_silences(60.0)[0]["status"] == "expired"
    assert seen == [ack]  # pushed once although read twice
    control.apply_records("silences", [record("s", 9, silence.id.encode(), None)])
    assert control.active() == []


async def test_control_writes_before_it_answers() -> None:
    written: list[tuple[bytes, bytes]] = []

    async def send(key: bytes, value: bytes) -> None:
        written.append((key, value))

    control = SharedControl(send)
    request = SilenceRequest(("service=db",), 0.0, 100.0, "ana", "")
    created = await control.add_silence(request)
    assert written[0][0] == created["id"].encode()
    assert await control.expire_silence(created["id"], 10.0)
    assert control.active()[0].ends_at == 10.0
    assert not await control.expire_silence("sil-none", 10.0)
    assert len(written) == 2


async def _refuse(key: bytes, value: bytes) -> None:
    raise AssertionError("read only")


async def test_control_reports_a_refused_write_and_keeps_nothing() -> None:
    async def down(key: bytes, value: bytes) -> None:
        raise KafkaConnectionError("broker down")

    control = SharedControl(down)
    with pytest.raises(ConnectorError, match="broker down"):
        await control.add_silence(SilenceRequest(("service=db",), 0.0, 100.0))
    assert control.active() == []
