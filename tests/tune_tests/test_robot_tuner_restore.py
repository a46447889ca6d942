"""A user's Tuner running RoBoTSearcher, killed with SIGKILL, resumed by Tuner.restore alone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

USER_SCRIPT = textwrap.dedent('''
    import sys, time
    import ray
    from ray import tune
    import robot_ray as rr

    ray.init(address="local", num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1")
    bench = rr.get_benchmark("nb201", dataset="cifar10")

    def trainable(config):
        time.sleep(0.3)
        tune.report({"accuracy": bench.query(bench.arch_id(config["arch"])).value})

    if sys.argv[1] == "start":
        metrics = rr.load_metrics("nb201", ["synflow", "snip", "nwot", "zen"], dataset="cifar10")
        searcher = rr.RoBoTSearcher(metrics, budget=12, seed=3, metric="accuracy", mode="max")
        tune.Tuner(trainable, tune_config=tune.TuneConfig(search_alg=searcher, num_samples=-1,
                   max_concurrent_trials=2),
                   run_config=tune.RunConfig(name="exp", storage_path=sys.argv[2], verbose=0)).fit()
    else:
        tune.Tuner.restore(sys.argv[2] + "/exp", trainable=trainable).fit()
''')


def _done(exp: Path) -> int:
    """Finished evaluations in the newest searcher checkpoint Tune wrote."""
    files = sorted(exp.glob("searcher-state-*.pkl"))
    try:
        state = json.loads(files[-1].read_text())
    except (IndexError, OSError, json.JSONDecodeError):
        return 0
    return sum(1 for e in state["evals"] if e["status"] == "done")


@pytest.mark.slow
def test_sigkill_then_tuner_restore_finishes_with_exactly_T(data_dir, tmp_path):
    script = tmp_path / "user.py"
    script.write_text(USER_SCRIPT)
    env = {**os.environ, "ROBOT_RAY_DATA": str(data_dir), "RAY_AIR_NEW_OUTPUT": "0",
           "TUNE_GLOBAL_CHECKPOINT_S": "1"}
    storage = tmp_path / "runs"
    proc = subprocess.Popen([sys.executable, str(script), "start", str(storage)], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while _done(storage / "exp") < 4 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None, "the search finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 4 <= _done(storage / "exp") < 12

    out = subprocess.run([sys.executable, str(script), "restore", str(storage)], env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    from robot_ray.tune.robot_searcher import RoBoTSearcher

    final = RoBoTSearcher.from_checkpoint(str(sorted((storage / "exp").glob("searcher-state-*.pkl"))[-1]))
    ids = [h["arch_id"] for h in final.history()]
    assert final.finished and len(ids) == len(set(ids)) == 12
    assert all(h["status"] == "done" for h in final.history())
    assert final.best()["accuracy"] == max(h["value"] for h in final.history())
