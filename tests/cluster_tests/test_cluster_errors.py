"""Bad input on the cluster path: a dead address and an unwritable output fail fast, in one line."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_dead_cluster_address_fails_fast(data_dir, tmp_path) -> None:
    started = time.monotonic()
    res = subprocess.run(
        [str(Path(sys.executable).parent / "robot-ray"), "search", "--address", "127.0.0.1:1", "--budget", "2", "--seeds", "0",
         "--data-dir", str(data_dir), "--out", str(tmp_path / "o"), "--quiet"],
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )
    assert res.returncode == 2, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "127.0.0.1:1" in lines[0] and lines[0].startswith("robot-ray: error:")
    assert time.monotonic() - started < 60  # Ray alone retries for minutes


def test_job_with_unwritable_out_uri(tmp_path) -> None:
    (tmp_path / "afile").write_text("x")
    res = subprocess.run(
        [sys.executable, "jobs/search.py", "--method", "rs", "--budget", "2", "--seeds", "0",
         "--out", f"file://{tmp_path}/afile/out"],
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )
    assert res.returncode == 2
    assert "not writable" in res.stderr and "afile/out" in res.stderr
