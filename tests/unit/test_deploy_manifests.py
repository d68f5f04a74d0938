"""Deployment files parse, and their images, ports and topic names agree with the code."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import yaml

from connectors.http.server import build_app
from connectors.http.state import AppState
from connectors.kafka.admin import topic_layout
from connectors.kafka.config import DEFAULT_METRICS_PORT, Topics, WorkerConfig, config_from_dict
from engine.rules.runtime import HttpLimits

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
    assert "--topic vigil.silences --partitions 1" in script
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
    assert f"COPY rules {compose_cfg.rules_path}" in (DEPLOY / "Dockerfile").read_text()


def test_compose_workers_mount_the_worker_config_and_the_rules_it_names() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    cfg = config_from_dict(yaml.safe_load((DEPLOY / "worker.yaml").read_text()))
    for name in ("worker-1", "worker-2"):
        service = compose["services"][name]
        config_path = service["command"][service["command"].index("--config") + 1]
        mounts = {m.split(":")[1]: m.split(":")[0] for m in service["volumes"]}
        assert mounts[config_path] == "./deploy/worker.yaml"
        assert mounts[cfg.rules_path] == "./rules"
        assert service["environment"]["VIGIL_API_TOKEN"]


def test_compose_alertmanager_sends_to_the_worker_alert_webhook_with_its_token() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    manager = services["alertmanager"]
    assert manager["image"].startswith("prom/alertmanager:")
    mounted = dict(m.split(":")[:2] for m in manager["volumes"])
    config_file = re.search(r"--config\.file=(\S+)", manager["command"][0])
    assert config_file is not None
    assert mounted["./deploy/alertmanager/alertmanager.yml"] == config_file.group(1)
    config = yaml.safe_load((DEPLOY / "alertmanager" / "alertmanager.yml").read_text())
    assert config["route"]["receiver"] in {r["name"] for r in config["receivers"]}
    hook = config["receivers"][0]["webhook_configs"][0]
    url = urlsplit(hook["url"])
    assert url.hostname in services
    assert services[url.hostname]["command"][0] == "worker"
    cfg = config_from_dict(yaml.safe_load((DEPLOY / "worker.yaml").read_text()))
    assert url.port == cfg.api_port
    routes = {(r.method, r.resource.canonical) for r in build_app(AppState()).router.routes()
              if r.resource is not None}
    assert ("POST", url.path) in routes
    assert hook.get("max_alerts", 0) <= HttpLimits().max_alerts_per_request
    token_file = hook["http_config"]["authorization"]["credentials_file"]
    assert f"> {token_file}" in manager["command"][0]  # written from the workers' token
    assert manager["environment"]["VIGIL_API_TOKEN"] == services["worker-1"]["environment"][
        "VIGIL_API_TOKEN"
    ]


def test_prometheus_loads_vigil_alert_rules_and_sends_them_to_alertmanager() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    prom = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    mounts = dict(m.split(":")[:2] for m in services["prometheus"]["volumes"])
    for rule_file in prom["rule_files"]:
        folder, name = rule_file.rsplit("/", 1)
        host = next(h for h, c in mounts.items() if c == folder)
        assert (ROOT / host / name).is_file()
    target = prom["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"][0]
    host, port = target.split(":")
    assert host in services
    assert f"{port}:{port}" in services[host]["ports"]


WORKER_WRITES = [
    f.name for f in fields(WorkerConfig) if f.name.endswith("_path")
    and f.name not in {"rules_path", "references_path"}
]
"""Config keys naming places the worker writes (a new ``*_path`` key is included)."""
RESTRICTED_VOLUMES = {
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
    "projected", "secret",
}


def _worker_pod() -> tuple[dict, dict]:
    docs = _docs(DEPLOY / "k8s" / "deployment.yaml")
    pod = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]
    return pod, pod["containers"][0]


def test_worker_pod_passes_pod_security_restricted() -> None:
    pod, _ = _worker_pod()
    assert not any(pod.get(k) for k in ("hostNetwork", "hostPID", "hostIPC"))
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    for c in [*pod["containers"], *pod.get("initContainers", [])]:
        ctx = c["securityContext"]
        assert ctx["allowPrivilegeEscalation"] is False
        assert ctx["capabilities"]["drop"] == ["ALL"]
        assert not ctx["capabilities"].get("add")
        assert ctx.get("privileged") is not True
        assert ctx.get("seccompProfile", {"type": "RuntimeDefault"})["type"] == "RuntimeDefault"
        assert all("hostPort" not in p for p in c.get("ports", []))
    for volume in pod["volumes"]:
        assert set(volume) - {"name"} <= RESTRICTED_VOLUMES, volume


def test_every_path_the_worker_writes_is_on_a_writable_volume() -> None:
    pod, container = _worker_pod()
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    writable = {v["name"] for v in pod["volumes"] if {"emptyDir", "persistentVolumeClaim"} & set(v)}
    mounts = [m["mountPath"] for m in container["volumeMounts"]
              if m["name"] in writable and not m.get("readOnly")]
    configmaps = {d["metadata"]["name"]: d for d in _docs(DEPLOY / "k8s" / "configmap.yaml")}
    cfg = yaml.safe_load(configmaps["vigil-worker"]["data"]["worker.yaml"])
    assert WORKER_WRITES
    for key in WORKER_WRITES:
        path = PurePosixPath(cfg.get(key) or getattr(WorkerConfig(), key))
        assert path.is_absolute(), f"{key}: relative to the read-only image ({path})"
        assert any(path.is_relative_to(m) for m in mounts), f"{key}: {path} not on {mounts}"
    assert "/tmp" in mounts  # noqa: S108  (the pod's own emptyDir)


def test_compose_worker_writes_where_the_image_lets_its_user_write() -> None:
    cfg = yaml.safe_load((DEPLOY / "worker.yaml").read_text())
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    owned = re.findall(r"chown 10001:10001 (\S+)", dockerfile)
    assert re.search(r"^USER 10001$", dockerfile, re.MULTILINE)
    for key in WORKER_WRITES:
        path = PurePosixPath(cfg.get(key) or getattr(WorkerConfig(), key))
        assert any(path.is_relative_to(o) for o in owned), f"{key}: {path} not in {owned}"


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
    mounted = {v["configMap"]["name"] for v in pod["spec"]["volumes"] if "configMap" in v}
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
