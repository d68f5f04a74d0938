"""The Grafana dashboard and Prometheus alert rules only use metrics Vigil exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from connectors.metrics import VigilMetrics

REPO = Path(__file__).resolve().parents[3]
METRIC = re.compile(r"\bvigil_[a-z_]+")


def exported_names() -> set[str]:
    names: set[str] = set()
    for family in VigilMetrics().registry.collect():
        names.add(family.name)
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}
        names.update(family.name + s for s in suffixes.get(family.type, []))
    return names


def test_dashboard_queries_name_only_exported_metrics() -> None:
    dashboard = json.loads((REPO / "deploy/grafana/dashboards/vigil.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {m for e in exprs for m in METRIC.findall(e)}
    assert used
    assert used <= exported_names(), used - exported_names()
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])


def test_alert_rules_name_only_exported_metrics_and_cover_the_issue() -> None:
    rules = yaml.safe_load((REPO / "deploy/prometheus/vigil-alerts.yml").read_text())
    alerts = {r["alert"]: r for g in rules["groups"] for r in g["rules"]}
    assert {"VigilConsumerLagGrowing", "VigilDeadLetterRateHigh", "VigilReceiverFailing"} <= set(
        alerts
    )
    used = {m for r in alerts.values() for m in METRIC.findall(r["expr"])}
    assert used <= exported_names(), used - exported_names()
    for rule in alerts.values():
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]


JOB_MATCHER = re.compile(r'\bjob\s*(=~|!=|!~|=)\s*"([^"]*)"')


def scrape_jobs() -> set[str]:
    prom = yaml.safe_load((REPO / "deploy/prometheus.yml").read_text())
    return {c["job_name"] for c in prom["scrape_configs"]}


def test_alert_rules_and_dashboard_select_the_scrape_job_that_exists() -> None:
    rules = yaml.safe_load((REPO / "deploy/prometheus/vigil-alerts.yml").read_text())
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    dashboard = json.loads((REPO / "deploy/grafana/dashboards/vigil.json").read_text())
    exprs += [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    matchers = [m for e in exprs for m in JOB_MATCHER.findall(e)]
    literal = [(op, value) for op, value in matchers if "$" not in value]  # $job: a variable
    assert literal, "the alert rules name Vigil's scrape job (VigilDown)"
    jobs = scrape_jobs()
    for op, value in literal:
        assert op in {"=", "=~"}, (op, value)
        assert any(j == value or (op == "=~" and re.fullmatch(value, j)) for j in jobs), (
            f'job{op}"{value}" selects none of the scrape jobs {sorted(jobs)}'
        )


def test_dashboard_job_variable_lists_jobs_of_an_exported_metric() -> None:
    dashboard = json.loads((REPO / "deploy/grafana/dashboards/vigil.json").read_text())
    job = next(v for v in dashboard["templating"]["list"] if v["name"] == "job")
    assert set(METRIC.findall(job["query"]["query"])) <= exported_names()
