"""Predictions, ground-truth labels and changes."""

from __future__ import annotations

import pytest

from engine.events import Change, GroundTruth, InputKind, Prediction, Rejected
from engine.ingest.decode import Origin, decode_object, decode_record

T = 1_764_115_200.0
ORIGIN = Origin("in", timestamp=T)


def reasons(kind: InputKind, obj: object) -> list[str]:
    return [r.error for r in decode_object(kind, obj, ORIGIN) if isinstance(r, Rejected)]


def test_prediction_from_the_spec_example() -> None:
    raw = (
        b'{"ts": 1764115200.5, "model": "fraud-detector", "version": "4", "id": "p-000123",'
        b' "features": {"transaction_amount": 129.5, "user_age_days": 410,'
        b' "merchant_category": "grocery"}, "prediction": 1, "score": 0.91}'
    )
    assert decode_record(InputKind.PREDICTIONS, raw, ORIGIN) == [
        Prediction(
            ts=T + 0.5,
            model="fraud-detector",
            id="p-000123",
            features={
                "transaction_amount": 129.5,
                "user_age_days": 410.0,
                "merchant_category": "grocery",
            },
            prediction=1,
            score=0.91,
            version="4",
        )
    ]


def test_prediction_integer_id_and_version_become_strings_and_null_features_drop() -> None:
    obj = {"model": "m", "id": 7, "version": 4, "features": {"a": None, "b": 2}, "prediction": "x"}
    assert decode_object(InputKind.PREDICTIONS, obj, ORIGIN) == [
        Prediction(T, "m", "7", {"b": 2.0}, "x", None, "4")
    ]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"model": None}, "model: required"),
        ({"id": ""}, "id: must be a non-empty string or an integer (got string '')"),
        ({"id": True}, "id: must be a non-empty string or an integer (got bool true)"),
        ({"prediction": True}, "prediction: must be a finite number or a string (got bool true)"),
        ({"prediction": None}, "prediction: required"),
        ({"score": 1.5}, "score: must be a number in [0, 1] (got number 1.5)"),
        ({"score": "0.5"}, "score: must be a number in [0, 1] (got string '0.5')"),
        (
            {"features": {"is_weekend": True}},
            "features: values must be finite numbers or strings (features.is_weekend is bool true)",
        ),
        (
            {"features": {"a": [1]}},
            "features: values must be finite numbers or strings (features.a is array)",
        ),
        ({"features": [1, 2]}, "features: must be a map of numbers or strings (got array)"),
        ({"labels": {"a": None}}, "labels: must be a map of strings (labels.a is null)"),
    ],
)
def test_invalid_prediction_names_the_key(change: dict[str, object], reason: str) -> None:
    obj = {"model": "m", "id": "p", "prediction": 1, "features": {"x": 1}} | change
    assert reasons(InputKind.PREDICTIONS, obj) == [reason]


def test_ground_truth_label() -> None:
    raw = b'{"ts": 1764720000, "model": "fraud-detector", "id": "p-000123", "label": 0}'
    assert decode_record(InputKind.LABELS, raw, ORIGIN) == [
        GroundTruth(1_764_720_000.0, "fraud-detector", "p-000123", 0)
    ]
    assert reasons(InputKind.LABELS, {"model": "m", "id": "p"}) == ["label: required"]
    assert reasons(InputKind.LABELS, {"model": "m", "id": "p", "label": False}) == [
        "label: must be a finite number or a string (got bool false)"
    ]


def test_change_from_the_spec_example_and_unknown_kind_kept() -> None:
    raw = (
        b'[{"ts": 1764115100, "kind": "deploy", "service": "payments", "version": "2.14.0",'
        b' "description": "rollout of payments 2.14.0", "labels": {"cluster": "eu-1"}},'
        b' {"kind": "migration", "service": "db"}]'
    )
    assert decode_record(InputKind.CHANGES, raw, ORIGIN) == [
        Change(
            1_764_115_100.0,
            "deploy",
            "payments",
            "2.14.0",
            "rollout of payments 2.14.0",
            {"cluster": "eu-1"},
        ),
        Change(T, "migration", "db"),
    ]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"kind": None}, "kind: required"),
        ({"service": ["a"]}, "service: must be a non-empty string (got array)"),
        ({"description": 3}, "description: must be a string (got number 3)"),
        ({"version": 1.5}, "version: must be a non-empty string or an integer (got number 1.5)"),
    ],
)
def test_invalid_change_names_the_key(change: dict[str, object], reason: str) -> None:
    obj = {"kind": "deploy", "service": "s"} | change
    assert reasons(InputKind.CHANGES, obj) == [reason]


def test_json_log_record_with_infinity_is_rejected_naming_the_field() -> None:
    from engine.events import InputKind, Rejected
    from engine.ingest.decode import Origin, decode_record

    raw = b'{"ts": 1, "message": "m", "level": Infinity, "labels": {}}'
    [out] = decode_record(InputKind.LOGS, raw, Origin("logs"))
    assert isinstance(out, Rejected)
    assert out.error.startswith("level:")
    [plain] = decode_record(InputKind.LOGS, b"plain text with NaN", Origin("logs", timestamp=5.0))
    assert plain.message == "plain text with NaN"  # type: ignore[union-attr]
