"""Kill the driver of a running Tune search, resume it, and get the uninterrupted result."""

from __future__ import annotations

import pytest

import glob
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from robot_ray.benchmarks import get_benchmark
from robot_ray.cli import main
from robot_ray.metric_sources import load_metrics
from robot_ray.runs.robot import EXPERIMENT, TUNE_DIR, robot_runner

METRICS = "synflow,snip,nwot,zen"
BUDGET = 8
SEEDS = (10, 11)


def _done(exp_dir: Path) -> int:
    """Evaluations with a result, over all seeds, in the newest searcher state Tune checkpointed."""
    found = sorted(glob.glob(str(exp_dir / "searcher-state-*.pkl")))  # JSON text despite the suffix
    if not found:
        return 0
    try:
        state = json.loads(Path(found[-1]).read_text())
        return sum(e["status"] == "done" for child in state["children"].values() for e in child["evals"])
    except (OSError, ValueError, KeyError, TypeError):  # Tune may be replacing the file
        return 0


@pytest.mark.slow
def test_killed_search_resumes_to_the_uninterrupted_result(data_dir, tmp_path):
    out = tmp_path / "run"
    exp_dir = out / TUNE_DIR / EXPERIMENT
    cmd = [sys.executable, "-m", "robot_ray", "search", "--data-dir", str(data_dir), "--metrics", METRICS,
           "--budget", str(BUDGET), "--seeds", f"{SEEDS[0]}-{SEEDS[-1]}", "--out", str(out), "--quiet",
           "--num-cpus", "2", "--table-trials", "query"]
    # Tune checkpoints the experiment (searcher state included) every 10 s at least by default,
    # longer than this whole search on a table: every second here, so a checkpoint lands mid-search
    env = {**os.environ, "TUNE_GLOBAL_CHECKPOINT_S": "1"}
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 600
    # wait until a checkpoint holds at least 5 results, so the kill lands after real progress
    while _done(exp_dir) < 5 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None, "the search finished before it could be interrupted"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    booked = _done(exp_dir)
    assert 5 <= booked < BUDGET * len(SEEDS) and not (out / "summary.json").exists()

    # what ran after the last checkpoint may be recomputed; the result must not change
    result = CliRunner().invoke(main, ["search", "--resume", str(out), "--quiet", "--num-cpus", "2"])
    assert result.exit_code == 0, result.output
    traj = pd.read_parquet(out / "trajectory.parquet")
    bench = get_benchmark("nb201", "cifar10", data_dir)
    matrix = load_metrics("nb201", METRICS.split(","), dataset="cifar10", data_dir=data_dir)
    for seed in SEEDS:
        plain = robot_runner(bench, BUDGET, seed, metrics=matrix)
        got = traj[traj.seed == seed].sort_values("query")
        assert got["arch_id"].tolist() == [r.arch_id for r in plain.ledger.records]
        assert got["stage"].tolist() == [r.stage for r in plain.ledger.records]
        assert got["value"].tolist() == [r.value for r in plain.ledger.records]


def test_resume_needs_a_robot_ray_run(tmp_path):
    result = CliRunner().invoke(main, ["search", "--resume", str(tmp_path)])
    assert result.exit_code == 2 and "holds no robot-ray search to resume" in result.output
