"""Find and read result directories (``summary.json`` + ``trajectory.parquet``) at any depth."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from robot_ray.errors import RobotRayError
from robot_ray.runs.results import SUMMARY, TRAJECTORY


@dataclass(frozen=True)
class ResultDir:
    """One method on one dataset: its summary and its per-query trajectory."""

    path: Path
    summary: dict[str, Any]
    trajectory: pd.DataFrame

    @property
    def method(self) -> str:
        return str(self.summary.get("method") or self.path.name)

    @property
    def space(self) -> str:
        return str(self.summary.get("space") or "?")

    @property
    def dataset(self) -> str:
        return str(self.summary.get("dataset") or "?")

    @property
    def budget(self) -> int:
        """T of the runs: the summary's ``budget``, else the longest trajectory."""
        if self.summary.get("budget") is not None:
            return int(self.summary["budget"])
        runs = self.summary.get("runs") or []
        return max((int(r.get("queries") or 0) for r in runs), default=0)

    @property
    def runs(self) -> list[dict[str, Any]]:
        return list(self.summary.get("runs") or [])

    @property
    def key(self) -> tuple[str, str, int, str]:
        return (self.space, self.dataset, self.budget, self.method)


def read_result_dir(path: str | os.PathLike) -> ResultDir:
    """Read one result directory.

    Raises:
        RobotRayError: a file is missing or unreadable.
    """
    path = Path(path)
    try:
        summary = json.loads((path / SUMMARY).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise RobotRayError(f"cannot read {path / SUMMARY}: {exc}; rerun the search that wrote it") from exc
    _check_summary(path / SUMMARY, summary)
    traj_path = path / TRAJECTORY
    try:
        trajectory = pd.read_parquet(traj_path) if traj_path.is_file() else pd.DataFrame()
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise RobotRayError(f"cannot read {traj_path} as Parquet: {exc}") from exc
    missing = [c for c in TRAJECTORY_COLUMNS if c not in trajectory.columns]
    if not trajectory.empty and missing:
        raise RobotRayError(f"{traj_path} is not a robot-ray trajectory (no column {', '.join(missing)}): "
                            "rerun the search that wrote it, or move the file out of the report's inputs")
    return ResultDir(path, summary, trajectory)


TRAJECTORY_COLUMNS = ("seed", "query", "best_test_value")
"""What the report reads of a trajectory (the running best test value per seed and query)."""


def _check_summary(path: Path, summary: Any) -> None:
    """A summary is a JSON object whose fields the report reads have their types.

    Why: a list, ``"budget": "abc"`` or ``"runs": 5`` (an edited or foreign file) ended in a
    Python traceback deep in the table code.
    """
    fix = "rerun the search that wrote it, or move it out of the report's inputs"
    if not isinstance(summary, dict):
        raise RobotRayError(f"{path} is not a result summary (a JSON {type(summary).__name__}, not an object): {fix}")
    budget = summary.get("budget")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int) or budget < 1):
        raise RobotRayError(f"{path}: budget {budget!r} is not a whole number >= 1: {fix}")
    runs = summary.get("runs")
    if runs is not None and not (isinstance(runs, list) and all(isinstance(r, dict) for r in runs)):
        raise RobotRayError(f"{path}: runs is {type(runs).__name__}, not a list of run objects: {fix}")
    for run in runs or []:
        for key in ("best_test_value", "cost", "t0", "best_arch_id", "queries"):
            value = run.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise RobotRayError(f"{path}: a run's {key} is {value!r}, not a number: {fix}")


def find_results(inputs: Iterable[str | os.PathLike]) -> list[ResultDir]:
    """Every result directory under ``inputs`` (any depth), one per (space, dataset, T, method).

    Raises:
        RobotRayError: an input does not exist, none holds a summary.json, or two directories
            hold the same (space, dataset, T, method) — the report could not say which to show.
    """
    found: dict[tuple, ResultDir] = {}
    for root in inputs:
        root = Path(root)
        if not root.exists():
            raise RobotRayError(f"result directory {str(root)!r} does not exist")
        for summary in sorted(root.rglob(SUMMARY)):
            result = read_result_dir(summary.parent)
            other = found.get(result.key)
            if other is not None and other.path.resolve() != result.path.resolve():
                raise RobotRayError(
                    f"{other.path} and {result.path} both hold {result.method} on {result.space}/{result.dataset} "
                    f"at T={result.budget}: report them separately or remove one"
                )
            found[result.key] = result
    if not found:
        raise RobotRayError(
            f"no {SUMMARY} under {', '.join(map(str, inputs))}: point report at the --out of compare or search"
        )
    return list(found.values())
