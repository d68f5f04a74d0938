"""Worker services: config names of the HTTP API, alert re-encoding, the topic outbox."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from aiokafka import TopicPartition

from connectors.errors import ConnectorError
from connectors.kafka.action_log import TopicOutbox, action_from_record
from connectors.kafka.config import config_from_dict
from engine.events import Action, Alert, InputKind
from engine.ingest.decode import Origin, decode_object

PAYLOAD = {
    "version": "4",
    "status": "firing",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "Down", "service": "db", "severity": "critical"},
            "annotations": {"summary": "db down"},
            "startsAt": "2025-11-26T00:00:00Z",
            "generatorURL": "http://prom/graph",
        },
        {
            "status": "resolved",
            "labels": {"alertname": "Slow", "service": "api"},
            "startsAt": "2025-11-26T00:00:00Z",
            "endsAt": "2025-11-26T00:05:00Z",
        },
    ],
}


def test_old_metrics_port_key_still_sets_the_http_api_port() -> None:
    assert config_from_dict({"metrics_port": 9200}).api_port == 9200
    assert config_from_dict({"metrics_port": 9200, "http_port": 0}).api_port == 0
    assert config_from_dict({"metrics_port": None}).api_port is None


def test_api_token_comes_from_the_named_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = config_from_dict({"api_token_env": "T_TOKEN_VAR"})
    monkeypatch.delenv("T_TOKEN_VAR", raising=False)
    assert cfg.api_token() is None
    monkeypatch.setenv("T_TOKEN_VAR", "s3cret")
    assert cfg.api_token() == "s3cret"
    assert "s3cret" not in repr(cfg)


def test_api_token_file_wins_over_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-file-0123456789\n")
    monkeypatch.setenv("T_TOKEN_VAR", "from-env")
    cfg = config_from_dict({"api_token_env": "T_TOKEN_VAR", "api_token_file": str(token_file)})
    assert cfg.api_token() == "from-file-0123456789"
    with pytest.raises(ConnectorError, match="api_token_file"):
        config_from_dict({"api_token_file": str(tmp_path / "absent")}).api_token()


def test_alerts_reencoded_for_the_alerts_topic_decode_to_the_same_alerts() -> None:
    alerts = decode_object(InputKind.ALERTS, PAYLOAD, Origin("http:alerts", timestamp=1.0))
    assert len(alerts) == 2
    assert all(isinstance(a, Alert) for a in alerts)
    again = [
        decode_object(
            InputKind.ALERTS, orjson.loads(orjson.dumps(a.to_wire())), Origin("alerts")
        )
        for a in alerts
    ]
    assert [x for found in again for x in found] == alerts


def _action(i: int, incident: str = "inc-1") -> Action:
    return Action(f"act-{i}", float(i), incident, "hook", "webhook", incident, {"n": i})


def test_actions_round_trip_through_the_topic_record_with_their_payload() -> None:
    action = _action(3)
    record = orjson.dumps({**action.to_wire(), "payload": action.payload})
    assert action_from_record(record) == action
    assert action_from_record(b"{not json") is None
    assert action_from_record(b'{"id": "x"}') is None


def test_topic_outbox_skips_finished_ids_and_commits_below_the_oldest_pending() -> None:
    outbox = TopicOutbox()
    outbox.mark_finished("act-1")
    tp = TopicPartition("actions", 0)
    for offset, i in ((10, 1), (11, 2), (12, 3)):
        outbox.where[f"act-{i}"] = (tp, offset)
    entries = outbox.put([_action(1), _action(2), _action(3), _action(2)])
    assert [e.action.id for e in entries] == ["act-2", "act-3"]
    outbox.where.pop("act-1")  # the dispatcher records where only for actions it queues
    assert outbox.lowest_pending() == {tp: 11}
    outbox.finish(entries[0], entries[0].action)
    assert outbox.lowest_pending() == {tp: 12}
    assert [e.action.id for e in outbox.pending()] == ["act-3"]
    assert "act-2" in outbox.finished
    assert outbox.put([_action(2)]) == []
