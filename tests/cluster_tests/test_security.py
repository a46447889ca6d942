"""Nothing in robot_ray executes user files, and the local Ray default exposes no dashboard."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "robot_ray"
# The official CIFAR python batches are pickles; their loader may unpickle them (trusted files).
ALLOWED = {("train/data.py", "pickle.load")}
BANNED_NAMES = {"eval", "exec"}
BANNED_ATTRS = {("pickle", "load"), ("pickle", "loads"), ("marshal", "loads"), ("yaml", "unsafe_load"),
                ("dill", "load"), ("cloudpickle", "load"), ("cloudpickle", "loads")}


def _calls(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in BANNED_NAMES:
                yield f.id, node
            elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
                if (f.value.id, f.attr) in BANNED_ATTRS:
                    yield f"{f.value.id}.{f.attr}", node
                if f.value.id == "torch" and f.attr == "load":
                    kw = {k.arg: k.value for k in node.keywords}
                    if not (isinstance(kw.get("weights_only"), ast.Constant) and kw["weights_only"].value is True):
                        yield "torch.load without weights_only=True", node
                if f.value.id == "yaml" and f.attr == "load":
                    yield "yaml.load (use yaml.safe_load)", node


def test_no_code_execution_from_files() -> None:
    found = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG).as_posix()
        for what, node in _calls(path):
            if (rel, what) not in ALLOWED:
                found.append(f"robot_ray/{rel}:{node.lineno}: {what}")
    assert not found, "\n".join(found)


def test_local_ray_default_binds_loopback_without_dashboard() -> None:
    tree = ast.parse((PKG / "cluster.py").read_text())
    def starts_local(call: ast.Call) -> bool:  # address="local" (a new instance), not a cluster address
        kw = {k.arg: k.value for k in call.keywords}
        return isinstance(kw.get("address"), ast.Constant) and kw["address"].value == "local"

    local = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "init"
             and starts_local(n)]
    assert local, "no local ray.init in cluster.py"
    for call in local:
        kw = {k.arg: k.value for k in call.keywords}
        assert isinstance(kw.get("include_dashboard"), ast.Constant) and kw["include_dashboard"].value is False
        assert isinstance(kw.get("_node_ip_address"), ast.Constant) and kw["_node_ip_address"].value == "127.0.0.1"
