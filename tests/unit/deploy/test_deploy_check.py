"""Every Vigil file we ship (rules/, deploy/ worker configs, ConfigMap entries) passes
``vigil check`` with no warning; deploy/ files of other tools are named here explicitly."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.cli import main
from connectors.configcheck import is_worker_config, read_units
from engine.rules.yamltext import load_yaml

REPO = Path(__file__).resolve().parents[3]
OTHER_TOOLS = {
    "deploy/alertmanager/alertmanager.yml",
    "deploy/grafana/provisioning/dashboards/vigil.yml",
    "deploy/grafana/provisioning/datasources/prometheus.yml",
    "deploy/prometheus.yml",
    "deploy/prometheus/vigil-alerts.yml",
}


def shipped_yaml() -> list[Path]:
    found = [*REPO.glob("deploy/**/*.y*ml"), *REPO.glob("rules/*.y*ml")]
    return sorted(p for p in found if str(p.relative_to(REPO)) not in OTHER_TOOLS)


def test_every_shipped_vigil_file_passes_vigil_check_without_warnings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = shipped_yaml()
    code = main(["check", *map(str, files)])
    out = capsys.readouterr()
    assert (code, out.err) == (0, "")
    units = [u for f in files for u in read_units(f)]
    workers = [u.source for u in units if is_worker_config(load_yaml(u.text, u.source).data)]
    assert sorted(workers) == [
        f"{REPO}/deploy/k8s/configmap.yaml#vigil-worker/worker.yaml",
        f"{REPO}/deploy/worker.yaml",
    ]
    assert f"ok: {len(units) - 2} rule file(s), 2 worker config(s) valid, 0 warning(s)" in out.out


def test_other_tools_files_exist_so_the_exclusion_list_stays_honest() -> None:
    assert all((REPO / name).is_file() for name in OTHER_TOOLS)
