"""Kill the driver of a running Tune search, resume it, and get the uninterrupted result."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
from click.testing import CliRunner

from robot_ray.benchmarks import get_benchmark
from robot_ray.cli import main
from robot_ray.metrics.matrix import read_metric_table
from robot_ray.runs.loop import run_robot

METRICS = "synflow,snip,nwot,zen"


def _proposals(path) -> int:
    try:
        state = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return 0
    return sum(len(s["proposals"]) for s in state["seeds"].values())


def test_killed_search_resumes_to_the_uninterrupted_result(data_dir, tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "robot_ray", "search", "--data-dir", str(data_dir), "--metrics", METRICS,
           "--budget", "8", "--seeds", "10-11", "--out", str(out), "--quiet", "--num-cpus", "2"]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    while _proposals(out / "ledgers.json") < 5 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None, "the search finished before it could be interrupted"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    booked = _proposals(out / "ledgers.json")
    assert 5 <= booked < 14 and not (out / "summary.json").exists()

    result = CliRunner().invoke(main, ["search", "--resume", str(out), "--quiet", "--num-cpus", "2"])
    assert result.exit_code == 0, result.output
    traj = pd.read_parquet(out / "trajectory.parquet")
    bench = get_benchmark("nb201", "cifar10", data_dir)
    matrix = read_metric_table(data_dir / "nasbench201" / "reference_metrics.parquet", METRICS.split(","), dataset="cifar10")
    for seed in (10, 11):
        plain = run_robot(bench, 8, seed, metrics=matrix)
        got = traj[traj.seed == seed].sort_values("query")
        assert got["arch_id"].tolist() == [r.arch_id for r in plain.ledger.records]
        assert got["stage"].tolist() == [r.stage for r in plain.ledger.records]


def test_resume_needs_a_robot_ray_run(tmp_path):
    result = CliRunner().invoke(main, ["search", "--resume", str(tmp_path)])
    assert result.exit_code == 2 and "holds no robot-ray search to resume" in result.output
