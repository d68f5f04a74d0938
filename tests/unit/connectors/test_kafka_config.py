"""Worker config: defaults, prefixes, unknown keys, secrets kept out of repr."""

from __future__ import annotations

import pytest

from connectors.kafka.config import Topics, WorkerConfig, config_from_dict


def test_prefix_applies_to_every_topic() -> None:
    topics = Topics(prefix="prod.")
    assert topics.name("retrain") == "prod.ml.retrain"
    assert all(name.startswith("prod.") for name in topics.all_names())
    assert "prod.metrics" in topics.detect_inputs()


def test_unknown_keys_are_errors_that_name_the_file() -> None:
    with pytest.raises(ValueError, match=r"worker.yaml: topics: unknown key\(s\) metricz"):
        config_from_dict({"topics": {"metricz": "m"}}, "worker.yaml")


def test_sasl_password_comes_from_env_and_never_shows_in_repr(monkeypatch) -> None:
    monkeypatch.setenv("KAFKA_PW", "s3cret")
    cfg = config_from_dict({"security": {"protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN",
                                         "sasl_username": "vigil", "sasl_password_env": "KAFKA_PW"}})
    assert cfg.client_kwargs()["sasl_plain_password"] == "s3cret"
    assert "s3cret" not in repr(cfg)


def test_bad_tuning_is_refused() -> None:
    with pytest.raises(ValueError, match="heartbeat_interval_ms"):
        WorkerConfig(session_timeout_ms=1000, heartbeat_interval_ms=3000)
