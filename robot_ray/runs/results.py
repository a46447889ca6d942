"""Result files every search method writes: ``trajectory.parquet`` and ``summary.json``.

trajectory.parquet, one row per distinct query:
    method, space, dataset, seed, query (1..T), stage, arch_id, arch, weights (list or null),
    value, test_value, cost, best_value, best_test_value
summary.json:
    method, space, dataset, objective, budget, metrics, seeds, mean_test_value, std_test_value,
    mean_cost, mean_t0 (RoBoT), runs: [{seed, best_arch_id, best_arch, best_value,
    best_test_value, t0, queries, cost, best_weights}]
Both are written atomically (temporary file, then rename) so a crash never leaves half a file.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from robot_ray.algorithm.ledger import RunResult
from robot_ray.io.atomic import atomic_write_json, atomic_write_parquet

TRAJECTORY = "trajectory.parquet"
SUMMARY = "summary.json"


def trajectory_frame(runs: list[RunResult], *, method: str, space: str, dataset: str) -> pd.DataFrame:
    rows = []
    for run in runs:
        for r in run.ledger.rows():
            rows.append({"method": method, "space": space, "dataset": dataset, "seed": run.seed, **r})
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame["weights"] = frame["weights"].map(lambda w: None if w is None else list(w))
    return frame


def summarise(runs: list[RunResult], **meta: Any) -> dict[str, Any]:
    per_run = [r.summary() for r in sorted(runs, key=lambda r: r.seed)]
    tests = np.array([r["best_test_value"] for r in per_run], dtype=float)
    t0s = [r["t0"] for r in per_run if r["t0"] is not None]
    out = {
        **meta,
        "seeds": [r["seed"] for r in per_run],
        "mean_test_value": float(np.mean(tests)) if len(tests) else math.nan,
        "std_test_value": float(np.std(tests)) if len(tests) else math.nan,
        "mean_cost": float(np.mean([r["cost"] for r in per_run])) if per_run else math.nan,
        "runs": per_run,
    }
    if t0s:
        out["mean_t0"] = float(np.mean(t0s))
    return out


def write_results(out_dir: str | os.PathLike, runs: list[RunResult], *, method: str, space: str, dataset: str, **meta: Any) -> dict[str, Any]:
    """Write trajectory.parquet and summary.json into ``out_dir``; returns the summary."""
    out = Path(out_dir)
    atomic_write_parquet(out / TRAJECTORY, trajectory_frame(runs, method=method, space=space, dataset=dataset))
    summary = summarise(runs, method=method, space=space, dataset=dataset, **meta)
    atomic_write_json(out / SUMMARY, summary)
    return summary
