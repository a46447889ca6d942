"""cluster.yaml: valid for the installed Ray's launcher, installs the pinned versions, exposes nothing."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import jsonschema
import pytest
import ray.autoscaler
import yaml

REPO = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((REPO / "cluster.yaml").read_text())
PINS = dict(
    re.match(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)", dep).groups()
    for dep in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
)


def test_schema_of_the_installed_ray() -> None:
    schema = json.loads((Path(ray.autoscaler.__file__).parent / "ray-schema.json").read_text())
    jsonschema.validate(CONFIG, schema)
    from ray.autoscaler._private.util import prepare_config, validate_config

    validate_config(prepare_config(CONFIG))  # the launcher's own fill-in of defaults, then check


@pytest.mark.parametrize("kind", ["head", "worker"])
def test_setup_installs_pinned_torch_first_then_robot_ray(kind: str) -> None:
    cmds = CONFIG["setup_commands"] + CONFIG[f"{kind}_setup_commands"]
    torch_at = [i for i, c in enumerate(cmds) if f"torch=={PINS['torch']}" in c and "pip install" in c]
    pkg_at = [i for i, c in enumerate(cmds) if re.search(r"pip install .*(-e ~/robot-ray|robot-ray)", c)]
    assert torch_at and pkg_at and torch_at[0] < pkg_at[0], cmds


def test_no_version_in_setup_contradicts_pyproject() -> None:
    text = "\n".join(CONFIG["setup_commands"] + CONFIG["head_setup_commands"] + CONFIG["worker_setup_commands"])
    for name, version in re.findall(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([0-9][^\s\"']*)", text):
        assert PINS.get(name) in (None, version), f"{name}=={version} but pyproject pins {PINS.get(name)}"


def test_gpu_workers_scale_from_zero() -> None:
    gpu = CONFIG["available_node_types"]["gpu_worker"]
    assert gpu["min_workers"] == 0 and gpu["max_workers"] >= 1
    assert re.match(r"g[56]", gpu["node_config"]["InstanceType"])


def test_no_public_ray_ports() -> None:
    head = " ".join(CONFIG["head_start_ray_commands"])
    assert "--dashboard-host=127.0.0.1" in head and "0.0.0.0" not in head
    for rule in CONFIG["provider"].get("security_group", {}).get("IpPermissions", []):
        public = any(r.get("CidrIp") == "0.0.0.0/0" for r in rule.get("IpRanges", []))
        assert not (public and rule.get("FromPort", 0) <= 10001 and rule.get("ToPort", 0) >= 6379), rule
