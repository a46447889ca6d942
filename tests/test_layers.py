"""The layering of DESIGN.md ("Layers"), checked: import contracts, no import cycles, one atomic write.

The contracts live in pyproject.toml (``[tool.importlinter]``) and run through ``lint-imports``;
the rest walks the AST of every module under ``robot_ray/``, where an import inside a function
counts as much as one at the top (it runs sooner or later, and it is a dependency either way).
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import networkx as nx

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "robot_ray"
RAY_TUNE_IMPORTERS = ("robot_ray.tune", "robot_ray.runs", "robot_ray.cli")
ATOMIC_MODULE = PACKAGE / "io" / "atomic.py"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imported_names(tree: ast.AST, module: str, is_package: bool):
    """``(dotted name, line)`` of every import in ``tree``; ``from a import b`` gives ``a.b``
    (a module of that name if there is one, else ``a``'s attribute ``b``: resolved by the caller)."""
    here = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(here.split(".")[: len(here.split(".")) - node.level + 1] + [node.module or ""]).strip(".")
            else:
                base = node.module or ""
            for alias in node.names:
                yield f"{base}.{alias.name}", node.lineno


def _import_graph() -> nx.DiGraph:
    """robot_ray module -> robot_ray module it imports (the most specific module a name resolves to)."""
    sources = _sources()
    graph = nx.DiGraph()
    for module, path in sources.items():
        graph.add_node(module)
        tree = ast.parse(path.read_text(), filename=str(path))
        for name, line in _imported_names(tree, module, path.name == "__init__.py"):
            target = name
            while target and target not in sources:
                target = target.rpartition(".")[0]
            if target and target != module and not graph.has_edge(module, target):
                graph.add_edge(module, target, where=f"{path.relative_to(REPO)}:{line}")
    return graph


def test_import_contracts_kept() -> None:
    """Layers, torch and Ray placement (pyproject.toml ``[tool.importlinter]``)."""
    lint = Path(sys.executable).with_name("lint-imports")
    res = subprocess.run([str(lint), "--no-cache", "--config", str(REPO / "pyproject.toml")], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr


def test_no_import_cycles() -> None:
    graph = _import_graph()
    cycles = [c for c in nx.strongly_connected_components(graph) if len(c) > 1]
    described = []
    for scc in cycles:
        cycle = nx.find_cycle(graph.subgraph(scc))
        described.append(" -> ".join(f"{a} ({graph.edges[a, b]['where']})" for a, b in cycle) + f" -> {cycle[0][0]}")
    assert not described, "import cycles:\n" + "\n".join(described)


def test_ray_tune_only_in_tune_runs_cli() -> None:
    """What the ``ray`` contract cannot say (grimp sees only top-level external packages)."""
    bad = []
    for module, path in _sources().items():
        if module.startswith(tuple(f"{p}." for p in RAY_TUNE_IMPORTERS)) or module in RAY_TUNE_IMPORTERS:
            continue
        for name, line in _imported_names(ast.parse(path.read_text()), module, path.name == "__init__.py"):
            if name == "ray.tune" or name.startswith("ray.tune."):
                bad.append(f"{path.relative_to(REPO)}:{line} imports {name}")
    assert not bad, "ray.tune outside " + ", ".join(RAY_TUNE_IMPORTERS) + ":\n" + "\n".join(bad)


def test_every_package_is_seen_by_the_contracts() -> None:
    """A folder without ``__init__.py`` is invisible to grimp unless it is a root of its own."""
    roots = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["root_packages"])
    folders = {p.parent for p in PACKAGE.rglob("*.py")}
    names = {".".join(d.relative_to(REPO).parts): d for d in folders}
    unseen = sorted(n for n, d in names.items() if not (d / "__init__.py").is_file() and n not in roots)
    assert not unseen, f"add an __init__.py to (or list in root_packages) {unseen}"


def test_one_implementation_of_atomic_writes() -> None:
    """Temp file + ``os.replace`` is written once, in robot_ray/io/atomic.py; everything else calls it."""
    bad = []
    for path in sorted([*PACKAGE.rglob("*.py"), *(REPO / "jobs").glob("*.py"), *(REPO / "bench").glob("*.py")]):
        if path == ATOMIC_MODULE:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Attribute) and node.attr in ("replace", "rename")
                    and isinstance(node.value, ast.Name) and node.value.id == "os"):
                bad.append(f"{path.relative_to(REPO)}:{node.lineno} calls os.{node.attr}")
    assert not bad, "use robot_ray.io.atomic instead:\n" + "\n".join(bad)
