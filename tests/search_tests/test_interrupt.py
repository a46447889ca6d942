"""Interruption is a state, not a result: SIGINT/SIGTERM stop a search with 130/143, no summary,
and --resume continues to the uninterrupted answer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from click.testing import CliRunner

from robot_ray.cli import main

METRICS = "synflow,snip,nwot,zen"


def _done(exp) -> int:
    files = sorted(exp.glob("searcher-state-*.pkl"))
    try:
        state = json.loads(files[-1].read_text())
    except (IndexError, OSError, json.JSONDecodeError):
        return 0
    return sum(1 for c in state["children"].values() for e in c["evals"] if e["status"] == "done")


def _finished_trials(exp) -> int:
    """Trials Tune's newest experiment checkpoint records as finished (seed trials: finished seeds)."""
    files = sorted(exp.glob("experiment_state-*.json"))
    try:
        return files[-1].read_text().count('\\"status\\": \\"TERMINATED\\"')
    except (IndexError, OSError):
        return 0


def _interrupted(data_dir, out, budget: str, seeds: str, progress, at_least: int, signum, *extra) -> tuple[int, str]:
    """Start ``robot-ray search`` (Tune checkpointing every second), send ``signum`` once
    ``progress(experiment dir)`` reaches ``at_least``; (exit code, stderr)."""
    cmd = [sys.executable, "-m", "robot_ray", "search", "--data-dir", str(data_dir), "--metrics", METRICS,
           "--budget", budget, "--seeds", seeds, "--out", str(out), "--quiet", "--num-cpus", "2", *extra]
    env = {**os.environ, "TUNE_GLOBAL_CHECKPOINT_S": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while progress(out / "tune" / "robot") < at_least and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the search finished before it could be interrupted"
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


def _resume_gives_the_plain_loops_answer(out, plain, data_dir, budget: str, seeds: str) -> None:
    """``--resume out`` finishes, with the trajectories of the same search in a plain loop."""
    result = CliRunner().invoke(main, ["search", "--resume", str(out), "--quiet", "--num-cpus", "2"])
    assert result.exit_code == 0, result.output
    again = CliRunner().invoke(main, ["search", "--data-dir", str(data_dir), "--metrics", METRICS, "--budget", budget,
                                      "--seeds", seeds, "--out", str(plain), "--quiet", "--no-ray"])
    assert again.exit_code == 0, again.output
    got, want = (pd.read_parquet(d / "trajectory.parquet") for d in (out, plain))
    assert got[["seed", "query", "arch_id", "stage"]].equals(want[["seed", "query", "arch_id", "stage"]])


@pytest.mark.slow
@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_without_a_result_and_resume_finishes(data_dir, tmp_path, signum, code):
    out = tmp_path / "run"
    returncode, err = _interrupted(data_dir, out, "10", "10-11", _done, 4, signum, "--table-trials", "query")
    assert returncode == code, err[-2000:]
    assert "interrupted" in err and "--resume" in err and "Traceback" not in err
    assert not (out / "summary.json").exists() and not (out / "trajectory.parquet").exists()

    _resume_gives_the_plain_loops_answer(out, tmp_path / "plain", data_dir, "10", "10-11")


@pytest.mark.slow
def test_seed_trials_interrupted_resume_to_the_same_answer(data_dir, tmp_path):
    """On a table each Tune trial is one seed's whole search: SIGINT after some seeds finished,
    then --resume reruns only the unfinished ones and gives the plain loop's trajectories."""
    out = tmp_path / "run"
    seeds = "0-39"
    returncode, err = _interrupted(data_dir, out, "20", seeds, _finished_trials, 2, signal.SIGINT)
    assert returncode == 130, err[-2000:]
    assert not (out / "summary.json").exists()

    _resume_gives_the_plain_loops_answer(out, tmp_path / "plain", data_dir, "20", seeds)
