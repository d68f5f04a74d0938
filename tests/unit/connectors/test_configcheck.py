"""``vigil check`` on worker configs, Kubernetes ConfigMaps and receivers nothing reaches."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.cli import main
from connectors.configcheck import RUNTIME_IN_WORKER
from connectors.rulefiles import load_rules


def check(capsys: pytest.CaptureFixture[str], *paths: Path) -> tuple[int, str, str]:
    code = main(["check", *map(str, paths)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_worker_config_is_recognised_and_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "worker.yaml"
    cfg.write_text(
        "bootstrap_servers: kafka:9092\nhttp_port: 9108\nlog_format: json\n"
        "topics: {prefix: 'x.'}\nsecurity: {protocol: SASL_SSL, sasl_password_env: PW}\n"
    )
    code, out, err = check(capsys, cfg)
    assert (code, err) == (0, "")
    assert "1 worker config(s) valid" in out


def test_worker_config_errors_point_at_file_line_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "worker.yaml"
    cfg.write_text(
        "bootstrap_servers: kafka:9092\n"
        "http_port: abc\n"
        "checkpoint_store: s3\n"
        "checkpoint_interval_s: -1\n"
        "topics:\n"
        "  metricz: m\n"
        "log_level: verbose\n"
        "runtime:\n"
        "  allowed_lateness: 5m\n"
    )
    code, _, err = check(capsys, cfg)
    assert code == 1
    assert err.splitlines() == [
        f"{cfg}:2: http_port: Input should be a valid integer, unable to parse string as an"
        " integer (got 'abc')",
        f"{cfg}:3: checkpoint_store: Input should be 'kafka', 'file' or 'memory' (got 's3')",
        f"{cfg}:6: topics.metricz: unknown key",
        f"{cfg}:7: log_level: Input should be 'debug', 'info', 'warning' or 'error'"
        " (got 'verbose')",
        f"{cfg}:8: runtime: {RUNTIME_IN_WORKER}",
    ]


def test_worker_config_post_init_errors_name_their_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "worker.yaml"
    cfg.write_text("group_id: vigil\ncheckpoint_interval_s: -1\n")
    code, _, err = check(capsys, cfg)
    assert code == 1
    assert err.strip() == f"{cfg}:2: checkpoint_interval_s: must be > 0, got -1.0"


CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: vigil-worker}
data:
  worker.yaml: |
    bootstrap_servers: kafka:9092
    http_prot: 9108
---
apiVersion: v1
kind: ConfigMap
metadata: {name: vigil-rules}
data:
  notes.txt: not a Vigil file
  routing.yaml: |
    routing:
      route: {receiver: oncall}
      receivers:
        - {name: oncall, type: pagerduty}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: vigil}
"""


def test_configmap_files_are_checked_at_their_lines_in_the_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "configmap.yaml"
    manifest.write_text(CONFIGMAP)
    code, _, err = check(capsys, manifest)
    assert code == 1
    assert err.splitlines() == [
        f"{manifest}:7: http_prot: unknown key",
        f"{manifest}:18: routing.receivers[0].routing_key_env: a pagerduty receiver needs"
        " exactly one of routing_key_env, routing_key_file",
    ]


def test_a_manifest_without_vigil_files_is_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "service.yaml"
    manifest.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: vigil}\n")
    code, out, _ = check(capsys, manifest)
    assert code == 0
    assert f"{manifest}: skipped" in out


ROUTING = """\
routing:
  receivers:
    - {name: console, type: console}
    - {name: audit, type: file, path: audit.jsonl}
    - {name: spare, type: file, path: spare.jsonl, enabled: false}
    - {name: ml-alerts, type: file, path: ml.jsonl}
  route:
    receiver: console
    routes:
      - receiver: console
"""


def test_an_enabled_receiver_no_route_reaches_is_a_warning_not_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "routing.yaml"
    rules.write_text(ROUTING)
    code, out, err = check(capsys, rules)
    assert code == 0
    assert err.splitlines() == [
        f"{rules}:4: routing.receivers[1].name: warning: receiver 'audit' is enabled but no"
        " route names it (and no monitoring alert or action sends to it): it never gets"
        " anything",
        f"{rules}:6: routing.receivers[3].name: warning: receiver 'ml-alerts' is enabled but no"
        " route names it (and no monitoring alert or action sends to it): it never gets"
        " anything",
    ]
    assert "2 warning(s)" in out


def test_a_receiver_the_monitoring_section_sends_to_is_reached(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "routing.yaml").write_text(
        ROUTING.replace("{name: ml-alerts, type: file, path: ml.jsonl}",
                        "{name: ml-alerts, type: slack, webhook_url_env: X}")
        .replace("{name: audit, type: file, path: audit.jsonl}",
                 "{name: audit, type: file, path: a.jsonl, enabled: false}")
    )
    (tmp_path / "monitoring.yml").write_text(
        "monitoring:\n  model_performance:\n    metrics:\n      - {name: f1_score, minimum: 0.9}\n"
        "    alert: slack://ml-alerts\n"
    )
    code, _, err = check(capsys, tmp_path)
    assert (code, err) == (0, "")


def test_the_worker_refuses_the_config_vigil_check_refuses_before_connecting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "worker.yaml"
    cfg.write_text("bootstrap_servers: 127.0.0.1:1\nhttp_port: abc\nruntime: {idle_source: 5s}\n")
    assert main(["worker", "--config", str(cfg)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{cfg}:2: http_port: Input should be a valid integer, unable to parse string as an"
        " integer (got 'abc')",
        f"{cfg}:3: runtime: {RUNTIME_IN_WORKER}",
    ]


def test_the_runtimes_log_the_warnings_when_they_load_the_rules(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rules = tmp_path / "routing.yaml"
    rules.write_text(ROUTING)
    load_rules([rules])
    warned = [r.getMessage() for r in caplog.records if r.name == "vigil.rules"]
    assert [w.split(": warning: ")[0] for w in warned] == [
        f"{rules}:4: routing.receivers[1].name",
        f"{rules}:6: routing.receivers[3].name",
    ]
