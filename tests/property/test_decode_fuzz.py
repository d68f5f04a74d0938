"""Fuzzing the wire-contract decoders (issue 2 item 8, issue 7 item 4).

Every input, however broken, is accounted for: typed events or ``Rejected`` dead letters whose
wire form encodes, never an exception. Valid objects of every kind round-trip to the right
typed event; a single bad field is rejected with a reason naming that key.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from engine.events import (
    Alert,
    Change,
    GroundTruth,
    InputKind,
    Level,
    LogRecord,
    MetricPoint,
    Prediction,
    Rejected,
    TopologyUpdate,
)
from engine.ingest.decode import Origin, decode_object, decode_record, reason_class

KINDS = st.sampled_from(list(InputKind))
ORIGINS = st.sampled_from([Origin("fuzz", 1, 2, 1_764_115_200.0), Origin("fuzz")])
TYPED = (MetricPoint, LogRecord, Prediction, GroundTruth, Alert, Change, TopologyUpdate)


def assert_accounted(out: object) -> None:
    """Only typed events and dead letters, whose wire form encodes as JSON."""
    assert isinstance(out, list)
    for item in out:
        assert isinstance(item, (*TYPED, Rejected)), item
        if isinstance(item, Rejected):
            assert item.error
            assert reason_class(item.error)
            orjson.dumps(item.to_wire())


# ---------------------------------------------------------------------------------------------
# Anything in: never raises

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
KEYS = ["ts", "name", "value", "labels", "message", "level", "model", "id", "features",
        "prediction", "score", "label", "kind", "service", "version", "alerts", "status",
        "severity", "fingerprint", "startsAt", "endsAt", "nodes", "edges", "upsert", "delete",
        "from", "to", "annotations", "description"]  # fmt: skip
# Objects with the contract's keys and arbitrary values reach deeper into the decoders.
keyed_objects = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=8)


@given(KINDS, st.binary(max_size=300), ORIGINS)
def test_arbitrary_bytes_never_raise(kind: InputKind, raw: bytes, origin: Origin) -> None:
    assert_accounted(decode_record(kind, raw, origin))


@given(KINDS, json_values | keyed_objects | st.lists(keyed_objects, max_size=3), ORIGINS)
def test_arbitrary_json_never_raises(kind: InputKind, obj: Any, origin: Origin) -> None:
    assert_accounted(decode_object(kind, obj, origin))
    raw = orjson.dumps(obj)
    out = decode_record(kind, raw, origin)
    assert_accounted(out)
    if isinstance(obj, dict) and kind is not InputKind.ALERTS:
        assert len(out) == 1  # one record, one outcome
        if isinstance(out[0], Rejected):
            assert out[0].value == raw


@given(KINDS, keyed_objects, st.integers(0, 400), st.sampled_from(
    [b"NaN", b"Infinity", b"-Infinity", b"1e999", b"\xff", b"\xc3", b"\xed\xa0\x80",
     b'"\\ud800"', b"{", b"]", b",", b'"', b"\\", b"\x00", b"[" * 2000, b'"' + b"x" * 100_000]
))  # fmt: skip
def test_mutated_bytes_never_raise(kind: InputKind, obj: Any, cut: int, junk: bytes) -> None:
    raw = orjson.dumps(obj)
    cut = min(cut, len(raw))
    mutated = raw[:cut] + junk + raw[cut:]
    out = decode_record(kind, mutated, Origin("fuzz", timestamp=5.0))
    assert_accounted(out)


@given(KINDS, st.integers(1, 3000), st.sampled_from([b"[", b'{"a":', b'{"labels":']))
def test_deep_nesting_never_raises(kind: InputKind, depth: int, opener: bytes) -> None:
    closer = {b"[": b"]", b'{"a":': b"}", b'{"labels":': b"}"}[opener]
    raw = opener * depth + b"1" + closer * depth
    assert_accounted(decode_record(kind, raw, Origin("fuzz", timestamp=5.0)))


def outcome(out: list[Any]) -> list[Any]:
    return [("rejected", item.error) if isinstance(item, Rejected) else item for item in out]


@given(KINDS, st.lists(st.tuples(st.sampled_from(KEYS), json_values), min_size=2, max_size=6))
def test_duplicate_keys_last_one_wins(kind: InputKind, pairs: list[tuple[str, Any]]) -> None:
    raw = "{" + ",".join(f"{json.dumps(k)}:{orjson.dumps(v).decode()}" for k, v in pairs) + "}"
    origin = Origin("fuzz", timestamp=5.0)
    by_bytes = decode_record(kind, raw.encode(), origin)
    assert outcome(by_bytes) == outcome(decode_object(kind, dict(pairs), origin))


# ---------------------------------------------------------------------------------------------
# Valid objects of each kind round-trip to the right typed event

names = st.text(min_size=1, max_size=12)
label_maps = st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=4)
finite = st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**53), 2**53)
offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
instants = st.datetimes(datetime(1970, 1, 2), datetime(3000, 1, 1), timezones=offsets)


@st.composite
def event_times(draw: st.DrawFn) -> tuple[object, float]:
    """A wire ``ts`` and the epoch seconds it means."""
    choice = draw(st.sampled_from(["int", "float", "rfc3339", "z"]))
    if choice == "int":
        seconds = draw(st.integers(0, 10**10))
        return seconds, float(seconds)
    if choice == "float":
        seconds = draw(st.floats(0, 1e10))
        return seconds, seconds
    when = draw(instants)
    text = when.isoformat()
    if choice == "z":
        when = when.astimezone(UTC)
        text = when.replace(tzinfo=None).isoformat() + "Z"
    return text, when.timestamp()


def close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6


@given(event_times(), names, finite, label_maps, st.dictionaries(st.text(max_size=5).map(
    lambda k: "x_" + k), json_values, max_size=3))  # fmt: skip
def test_valid_metric_round_trips(
    ts: tuple[object, float], name: str, value: float, labels: dict[str, str], extra: Any
) -> None:
    obj = {**extra, "ts": ts[0], "name": name, "value": value, "labels": labels}
    [point] = decode_record(InputKind.METRICS, orjson.dumps(obj), Origin("m"))
    assert isinstance(point, MetricPoint)
    assert close(point.ts, ts[1])
    assert (point.name, point.value, point.labels) == (name, float(value), labels)


levels = st.sampled_from(["trace", "DEBUG", "Info", "warn", "WARNING", "error", "FATAL"])


@given(event_times(), st.text(max_size=50), levels, label_maps)
def test_valid_log_round_trips(
    ts: tuple[object, float], message: str, level: str, labels: dict[str, str]
) -> None:
    obj = {"ts": ts[0], "message": message, "level": level, "labels": labels}
    [record] = decode_record(InputKind.LOGS, orjson.dumps(obj), Origin("l"))
    assert isinstance(record, LogRecord)
    expected = Level.WARN if level.upper() == "WARNING" else Level[level.upper()]
    assert (record.message, record.level, record.labels) == (message, expected, labels)
    assert close(record.ts, ts[1])


@given(st.text(max_size=80).filter(lambda s: not s.lstrip().startswith(("{", "[", '"'))))
def test_non_json_text_is_a_log_line(line: str) -> None:
    out = decode_record(InputKind.LOGS, line.encode(), Origin("l", timestamp=3.0))
    try:
        parsed = orjson.loads(line)
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, str):  # a JSON string is its own message
        line = parsed
    if line.strip():
        assert out == [LogRecord(3.0, line.rstrip("\r\n"), Level.INFO, {})]
    else:
        assert [r.error for r in out if isinstance(r, Rejected)] == ["message: blank line"]


class_labels = st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False,
    allow_infinity=False) | st.text(max_size=8)  # fmt: skip
features = st.dictionaries(st.text(max_size=8), finite | st.text(max_size=8), max_size=5)


@given(names, names, features, class_labels, st.none() | st.floats(0, 1), label_maps)
def test_valid_prediction_round_trips(
    model: str, ident: str, feats: dict[str, Any], prediction: Any, score: Any, labels: Any
) -> None:
    obj = {"ts": 1, "model": model, "id": ident, "features": feats, "prediction": prediction,
           "score": score, "version": "4", "labels": labels}  # fmt: skip
    expected = Prediction(
        1.0,
        model,
        ident,
        {k: v if isinstance(v, str) else float(v) for k, v in feats.items()},
        prediction,
        score,
        "4",
        labels,
    )
    assert decode_record(InputKind.PREDICTIONS, orjson.dumps(obj), Origin("p")) == [expected]


@given(names, names | st.integers(0, 10**9), class_labels)
def test_valid_ground_truth_round_trips(model: str, ident: Any, label: Any) -> None:
    obj = {"ts": 1, "model": model, "id": ident, "label": label}
    expected = GroundTruth(1.0, model, str(ident), label)
    assert decode_record(InputKind.LABELS, orjson.dumps(obj), Origin("g")) == [expected]


kinds = st.sampled_from(["deploy", "config", "scale", "feature_flag", "infra"]) | names


@given(kinds, names, st.none() | names, st.text(max_size=20), label_maps)
def test_valid_change_round_trips(
    kind: str, service: str, version: Any, description: str, labels: Any
) -> None:
    obj = {"ts": 2, "kind": kind, "service": service, "version": version,
           "description": description, "labels": labels}  # fmt: skip
    expected = Change(2.0, kind, service, version, description, labels)
    assert decode_record(InputKind.CHANGES, orjson.dumps(obj), Origin("c")) == [expected]


severities = st.sampled_from(["critical", "error", "warning", "info"])
statuses = st.sampled_from(["firing", "resolved"])


@given(names, statuses, severities, label_maps, label_maps, st.none() | names)
def test_valid_single_alert_round_trips(
    name: str, status: str, severity: str, labels: Any, annotations: Any, fingerprint: Any
) -> None:
    obj = {"ts": 3, "name": name, "status": status, "severity": severity, "labels": labels,
           "annotations": annotations, "fingerprint": fingerprint}  # fmt: skip
    [alert] = decode_record(InputKind.ALERTS, orjson.dumps(obj), Origin("a"))
    assert isinstance(alert, Alert)
    assert (alert.ts, alert.name, alert.status.value, alert.severity.value) == (
        3.0, name, status, severity)  # fmt: skip
    assert (alert.labels, alert.annotations) == (labels, annotations)
    assert len(alert.fingerprint) == 16 if fingerprint is None else alert.fingerprint == fingerprint


@given(st.lists(st.tuples(label_maps, statuses, instants), max_size=5))
def test_webhook_payload_yields_one_alert_per_element(
    elements: list[tuple[dict[str, str], str, datetime]],
) -> None:
    alerts = [{"status": status, "labels": {**labels, "alertname": "A"}, "annotations": {},
               "startsAt": start.isoformat(), "endsAt": "0001-01-01T00:00:00Z",
               "generatorURL": "http://p", "fingerprint": f"{i:016x}"}
              for i, (labels, status, start) in enumerate(elements)]  # fmt: skip
    payload = {"version": "4", "status": "firing", "receiver": "r", "alerts": alerts,
               "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
               "externalURL": "", "groupKey": "{}", "truncatedAlerts": 0}  # fmt: skip
    out = decode_record(InputKind.ALERTS, orjson.dumps(payload), Origin("a"))
    assert [a.fingerprint for a in out if isinstance(a, Alert)] == [
        a["fingerprint"] for a in alerts
    ]
    for alert, (_, _, start) in zip(out, elements, strict=True):
        assert isinstance(alert, Alert)
        assert alert.starts_at is not None
        assert close(alert.starts_at, start.timestamp())


graph_nodes = st.lists(st.fixed_dictionaries({"id": names, "kind": names}), max_size=5)
graph_edges = st.lists(st.fixed_dictionaries({"from": names, "to": names, "kind": st.sampled_from(
    ["calls", "runs_on", "depends_on"])}), max_size=5)  # fmt: skip


@given(st.sampled_from(["replace", "upsert", "delete"]), graph_nodes, graph_edges)
def test_valid_topology_round_trips(mode: str, nodes: list[Any], edges: list[Any]) -> None:
    body = {"nodes": nodes, "edges": edges}
    obj = body if mode == "replace" else {mode: body}
    [update] = decode_record(InputKind.TOPOLOGY, orjson.dumps(obj), Origin("t", timestamp=4.0))
    assert isinstance(update, TopologyUpdate)
    assert (update.ts, update.mode.value) == (4.0, mode)
    assert [(n.id, n.kind) for n in update.nodes] == [(n["id"], n["kind"]) for n in nodes]
    assert [(e.source, e.target, e.kind) for e in update.edges] == [
        (e["from"], e["to"], e["kind"]) for e in edges
    ]


# ---------------------------------------------------------------------------------------------
# A single bad field is rejected with a reason naming that key

wrong_scalars = st.booleans() | st.lists(st.integers(), max_size=2) | st.dictionaries(
    st.text(max_size=3), st.integers(), min_size=1, max_size=2)  # fmt: skip
bad_numbers = wrong_scalars | st.text(max_size=5) | st.sampled_from([float("nan"), float("inf")])
bad_strings = wrong_scalars | st.integers() | st.just("") | st.floats()
non_strings = st.integers() | st.booleans() | st.none()
bad_labels = st.lists(st.text(), max_size=2) | st.text() | st.dictionaries(
    st.text(max_size=3), non_strings, min_size=1, max_size=2)  # fmt: skip
bad_ts = st.booleans() | st.text(max_size=5) | st.lists(st.integers(), max_size=1) | st.integers(
    max_value=-1) | st.just(1e12)  # fmt: skip

VALID: dict[InputKind, dict[str, Any]] = {
    InputKind.METRICS: {"ts": 1, "name": "up", "value": 1.5, "labels": {"service": "a"}},
    InputKind.LOGS: {"ts": 1, "message": "m", "level": "INFO", "labels": {}},
    InputKind.PREDICTIONS: {"ts": 1, "model": "m", "id": "p", "features": {"x": 1},
                            "prediction": 1, "score": 0.5},
    InputKind.LABELS: {"ts": 1, "model": "m", "id": "p", "label": 1},
    InputKind.ALERTS: {"ts": 1, "name": "A", "status": "firing", "severity": "info",
                       "labels": {}, "annotations": {}},
    InputKind.CHANGES: {"ts": 1, "kind": "deploy", "service": "s", "description": "d"},
    InputKind.TOPOLOGY: {"ts": 1, "nodes": [{"id": "a", "kind": "host"}],
                         "edges": [{"from": "a", "to": "b", "kind": "calls"}]},
}  # fmt: skip
BAD: dict[InputKind, dict[str, st.SearchStrategy[Any]]] = {
    InputKind.METRICS: {"ts": bad_ts, "name": bad_strings, "value": bad_numbers,
                        "labels": bad_labels},
    InputKind.LOGS: {"ts": bad_ts, "message": wrong_scalars | st.integers(),
                     "level": bad_strings | st.just("LOUD"), "labels": bad_labels},
    InputKind.PREDICTIONS: {"ts": bad_ts, "model": bad_strings, "id": wrong_scalars,
                            "prediction": wrong_scalars | st.just(float("nan")),
                            "score": bad_numbers | st.just(1.5), "labels": bad_labels},
    InputKind.LABELS: {"ts": bad_ts, "model": bad_strings, "id": wrong_scalars,
                       "label": wrong_scalars},
    InputKind.ALERTS: {"ts": bad_ts, "name": bad_strings, "status": bad_strings,
                       "severity": bad_strings, "labels": bad_labels,
                       "annotations": bad_labels},
    InputKind.CHANGES: {"ts": bad_ts, "kind": bad_strings, "service": bad_strings,
                        "description": wrong_scalars | st.integers(), "labels": bad_labels},
    InputKind.TOPOLOGY: {"ts": bad_ts, "nodes": st.text() | st.integers() | st.lists(
                             st.integers() | st.just({"kind": "host"}), min_size=1),
                         "edges": st.text() | st.lists(st.just({"from": "a"}) | st.builds(
                             dict, to=names, kind=names.filter(lambda k: k != "calls")
                             .map(lambda k: k + "!"), **{"from": names}), min_size=1)},
}  # fmt: skip
REQUIRED: dict[InputKind, list[str]] = {
    InputKind.METRICS: ["name", "value"],
    InputKind.LOGS: ["message"],
    InputKind.PREDICTIONS: ["model", "id", "prediction"],
    InputKind.LABELS: ["model", "id", "label"],
    InputKind.ALERTS: ["name"],
    InputKind.CHANGES: ["kind", "service"],
}


@st.composite
def broken_records(draw: st.DrawFn) -> tuple[InputKind, str, dict[str, Any]]:
    kind = draw(st.sampled_from(list(BAD)))
    key = draw(st.sampled_from(sorted(BAD[kind])))
    return kind, key, {**VALID[kind], key: draw(BAD[kind][key])}


@given(broken_records())
def test_bad_field_is_rejected_naming_the_key(case: tuple[InputKind, str, dict[str, Any]]) -> None:
    kind, key, obj = case
    raw = json.dumps(obj).encode()  # the standard library writes NaN and Infinity literals
    [rejected] = decode_record(kind, raw, Origin("bad"))
    assert isinstance(rejected, Rejected)
    assert rejected.error.startswith((f"{key}:", f"{key}[")), rejected.error
    assert rejected.value == raw


ALERT_BAD = {  # NaN or Infinity would make the whole payload invalid JSON, tested above
    k: BAD[InputKind.ALERTS][k].filter(lambda v: not isinstance(v, float) or math.isfinite(v))
    for k in ("status", "severity", "labels", "annotations")
}


@given(st.integers(0, 3), st.sampled_from(sorted(ALERT_BAD)), st.data())
def test_bad_webhook_element_field_is_named_under_its_index(
    bad_index: int, key: str, data: st.DataObject
) -> None:
    alerts: list[dict[str, Any]] = [
        {"status": "firing", "labels": {"alertname": "A", "n": str(i)}, "annotations": {},
         "startsAt": "2025-11-26T00:00:00Z"} for i in range(4)
    ]  # fmt: skip
    alerts[bad_index][key] = data.draw(ALERT_BAD[key])
    out = decode_record(InputKind.ALERTS, json.dumps({"alerts": alerts}).encode(), Origin("a"))
    assert [isinstance(item, Rejected) for item in out] == [i == bad_index for i in range(4)]
    rejected = out[bad_index]
    assert isinstance(rejected, Rejected)
    assert rejected.error.startswith(f"alerts[{bad_index}].{key}:"), rejected.error


@given(st.sampled_from([(k, r) for k, keys in REQUIRED.items() for r in keys]))
def test_missing_required_key_is_named(case: tuple[InputKind, str]) -> None:
    kind, key = case
    obj = {k: v for k, v in VALID[kind].items() if k != key}
    [rejected] = decode_object(kind, obj, Origin("bad"))
    assert isinstance(rejected, Rejected)
    assert rejected.error.startswith(f"{key}: required"), rejected.error
