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
    cfg = config_from_dict(
        {
            "security": {
                "protocol": "SASL_PLAINTEXT",
                "sasl_mechanism": "PLAIN",
                "sasl_username": "vigil",
                "sasl_password_env": "KAFKA_PW",
            }
        }
    )
    assert cfg.client_kwargs()["sasl_plain_password"] == "s3cret"
    assert "s3cret" not in repr(cfg)


def test_bad_tuning_is_refused() -> None:
    with pytest.raises(ValueError, match="heartbeat_interval_ms"):
        WorkerConfig(session_timeout_ms=1000, heartbeat_interval_ms=3000)


def test_worker_pipeline_uses_the_stored_reference_profiles(tmp_path) -> None:
    import orjson

    from connectors.kafka.app import build_pipeline
    from connectors.reference import build_reference

    train = tmp_path / "train.jsonl"
    rows = [{"amount": float(i % 50), "merchant": "grocery", "prediction": i % 2}
            for i in range(200)]
    train.write_bytes(b"\n".join(orjson.dumps(r) for r in rows))
    build_reference("fraud-detector", train, tmp_path / "refs", "prediction", ())
    cfg = WorkerConfig(references_path=str(tmp_path / "refs"))
    assert set(build_pipeline(cfg).detect.models.references) == {"fraud-detector"}
    assert build_pipeline(WorkerConfig()).detect.models.references == {}


def test_missing_references_folder_is_an_error(tmp_path) -> None:
    from connectors.errors import ConnectorError
    from connectors.kafka.app import build_pipeline

    with pytest.raises(ConnectorError, match="references folder not found"):
        build_pipeline(WorkerConfig(references_path=str(tmp_path / "nope")))
