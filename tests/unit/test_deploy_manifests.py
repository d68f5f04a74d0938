"""Deployment files parse, and their images, ports and topic names agree with the code."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from connectors.kafka.admin import topic_layout
from connectors.kafka.config import DEFAULT_METRICS_PORT, Topics, config_from_dict

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_compose_creates_exactly_the_topics_of_the_code_defaults() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    script = compose["services"]["kafka-init"]["command"][0]
    loop = re.search(r"for t in ([^;]+);", script)
    assert loop is not None
    created = set(loop.group(1).split()) | set(re.findall(r"--topic (\w[\w.-]*) ", script))
    layout = {t.name: t.num_partitions for t in topic_layout(Topics(), 4)}
    assert created == set(layout)
    assert "--topic topology --partitions 1" in script
    assert "--topic vigil.state --partitions 1" in script
    assert "cleanup.policy=compact" in script


def test_compose_runs_two_workers_with_metrics_scraped_by_prometheus() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["kafka"]["image"].startswith("apache/kafka:")
    workers = [n for n, s in services.items() if s.get("command", [None])[0] == "worker"]
    assert sorted(workers) == ["worker-1", "worker-2"]
    assert all(
        s["ports"][0].endswith(f":{DEFAULT_METRICS_PORT}")
        for n, s in services.items()
        if n in workers
    )
    assert services["load"]["command"][0] == "load"
    prom = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    targets = prom["scrape_configs"][0]["static_configs"][0]["targets"]
    assert sorted(targets) == [f"{w}:{DEFAULT_METRICS_PORT}" for w in sorted(workers)]


def test_worker_config_files_load_with_the_code_defaults() -> None:
    compose_cfg = config_from_dict(yaml.safe_load((DEPLOY / "worker.yaml").read_text()))
    assert compose_cfg.bootstrap_servers == "kafka:9092"
    assert compose_cfg.api_port == DEFAULT_METRICS_PORT
    assert compose_cfg.rules_path == "/app/rules"  # where the Dockerfile copies rules/
    assert "COPY rules /app/rules" in (DEPLOY / "Dockerfile").read_text()


def test_kubernetes_manifests_agree_on_labels_ports_and_secrets() -> None:
    docs = [d for p in sorted((DEPLOY / "k8s").glob("*.yaml")) for d in _docs(p)]
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "ConfigMap", "Service", "PodDisruptionBudget", "Secret"} <= kinds
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    pod = deployment["spec"]["template"]
    labels = pod["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"] == labels
    for kind in ("Service", "PodDisruptionBudget"):
        doc = next(d for d in docs if d["kind"] == kind)
        selector = doc["spec"]["selector"]
        assert selector.get("matchLabels", selector).items() <= labels.items()
    container = pod["spec"]["containers"][0]
    assert container["ports"][0]["containerPort"] == DEFAULT_METRICS_PORT
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    secret_names = {d["metadata"]["name"] for d in docs if d["kind"] == "Secret"}
    refs = {e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"]}
    assert refs <= secret_names
    configmaps = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ConfigMap"}
    cfg = config_from_dict(yaml.safe_load(configmaps["vigil-worker"]["data"]["worker.yaml"]))
    assert cfg.api_port == DEFAULT_METRICS_PORT
    assert "sasl_password:" not in configmaps["vigil-worker"]["data"]["worker.yaml"]  # env only
    mounted = {v["configMap"]["name"] for v in pod["spec"]["volumes"]}
    assert mounted <= set(configmaps)


def test_dockerfile_is_slim_and_non_root_with_the_metrics_port() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in text
    assert re.search(r"^USER (?!root|0\b)\S+", text, re.MULTILINE)
    assert f"EXPOSE {DEFAULT_METRICS_PORT}" in text
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert compose["services"]["worker-1"]["build"]["dockerfile"] == "deploy/Dockerfile"


def test_grafana_is_provisioned_with_prometheus_and_the_dashboard_folder() -> None:
    prov = DEPLOY / "grafana" / "provisioning"
    source = yaml.safe_load((prov / "datasources" / "prometheus.yml").read_text())
    assert source["datasources"][0]["url"] == "http://prometheus:9090"
    provider = yaml.safe_load((prov / "dashboards" / "vigil.yml").read_text())
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./deploy/grafana/dashboards:{provider['providers'][0]['options']['path']}:ro" in mounts
