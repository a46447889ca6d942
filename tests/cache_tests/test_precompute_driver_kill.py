"""Killing the `robot-ray precompute` driver mid-run, then rerunning the same command."""

from __future__ import annotations

import pytest

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cache_helpers import assert_matches, cli_args

from robot_ray.cache import read_cache_table

ROBOT_RAY = [sys.executable, "-c", "import sys; from robot_ray.cli import main; sys.exit(main())"]


def _start(out: Path, data_dir: Path) -> subprocess.Popen:
    args = cli_args(out, data_dir, "0-11", "--shard-size", "2", "--num-actors", "1", "--num-cpus", "2", "--quiet")
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    # own session: the driver and the local Ray it starts form one process group we can kill
    return subprocess.Popen(ROBOT_RAY + args, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.slow
def test_killed_driver_resumes_to_one_row_per_arch(tmp_path, data_dir, reference):
    out = tmp_path / "c"
    proc = _start(out, data_dir)
    try:
        deadline = time.monotonic() + 150
        while not list(out.glob("shard-*.parquet")):
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() < deadline, "no shard file appeared"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done = len(list(out.glob("shard-*.parquet")))
    assert 1 <= done < 6, done

    rerun = _start(out, data_dir)
    output, _ = rerun.communicate(timeout=240)
    assert rerun.returncode == 0, output
    assert "12 archs" in output and "already cached" in output
    assert_matches(read_cache_table(out), reference, range(12))
