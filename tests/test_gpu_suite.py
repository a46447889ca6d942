"""bench/gpu_suite.sh --dry-run: the GPU suite's steps at tiny sizes on CPU, so the script cannot rot."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_gpu_suite_dry_run(tmp_path, data_dir):
    out = tmp_path / "suite"
    env = {**os.environ, "ROBOT_RAY_DATA": str(data_dir), "OUT": str(out)}
    proc = subprocess.run(["bash", str(REPO / "bench" / "gpu_suite.sh"), "--dry-run"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = (out / "summary.md").read_text()
    assert "# GPU suite summary" in summary and "suite exit status 0" in summary
    assert "# GPU suite summary" in proc.stdout  # printed at the end, too
    for space in ("nb201", "darts"):
        figures = json.loads((out / f"throughput_{space}.json").read_text())
        assert figures["device"] == "cpu" and figures["archs"] >= 1 and figures["fused_ms_per_arch"] > 0
        assert len(figures["per_metric_ms_per_arch"]) == len(figures["metrics"])
    cache = out / "cache_nb201_cifar10"
    assert (cache / "_manifest.json").is_file() and list(cache.glob("shard-*.parquet"))
    assert "cache complete" in summary


def test_gpu_suite_refuses_without_gpu_or_dry_run(tmp_path, data_dir):
    import pytest
    import torch

    if torch.cuda.is_available():
        pytest.skip("refusal is for machines without CUDA")
    env = {**os.environ, "ROBOT_RAY_DATA": str(data_dir)}
    proc = subprocess.run(["bash", str(REPO / "bench" / "gpu_suite.sh"), "--out", str(tmp_path / "o")], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "no CUDA GPU" in proc.stderr and "--dry-run" in proc.stderr
    assert not (tmp_path / "o").exists()
