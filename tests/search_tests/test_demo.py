"""The embedded live search (``robot-ray search`` with no data directory), at a toy size."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from robot_ray.runs.demo import DemoConfig, run_demo


@pytest.mark.slow
def test_embedded_search_trains_what_it_proposes_with_parallel_bo(tmp_path, monkeypatch):
    monkeypatch.delenv("ROBOT_RAY_DATA", raising=False)
    out = tmp_path / "demo"
    summary = run_demo(DemoConfig(out=str(out), pool=24, budget=5, epochs=1, progress=False))
    traj = pd.read_parquet(out / "trajectory.parquet")
    assert len(traj) == traj["arch_id"].nunique() == 5  # T distinct trainings, BO and greedy
    assert set(traj["stage"]) <= {"explore", "exploit"} and (traj["stage"] == "explore").any()
    assert 0 < summary["mean_test_value"] <= 100
    assert json.loads((out / "summary.json").read_text())["embedded_demo"] is True
    assert all(p.endswith((".png", ".md", ".csv")) for p in summary["report_files"])
