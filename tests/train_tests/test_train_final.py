"""jobs/train_final.py: tiny DARTS-protocol runs on CPU, checkpoint resume, CLI help."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

JOB = Path(__file__).resolve().parents[2] / "jobs" / "train_final.py"
TINY = ["--dataset", "digits", "--channels", "4", "--layers", "3", "--train-subset", "64", "--test-subset", "64",
        "--batch-size", "32"]


@pytest.fixture(scope="module")
def job():
    spec = importlib.util.spec_from_file_location("train_final", JOB)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _result(out: Path) -> dict:
    return json.loads((out / "result.json").read_text())


def test_help_lists_the_protocol_flags():
    out = subprocess.run([sys.executable, str(JOB), "--help"], capture_output=True, text=True, check=True).stdout
    for flag in ("--epochs", "--aux-weight", "--drop-path", "--grad-clip", "--cifar-root", "--out"):
        assert flag in out


def test_resumes_from_last_epoch(job, tmp_path, capsys):
    out = tmp_path / "run"
    assert job.main([*TINY, "--epochs", "1", "--out", str(out)]) == 0
    assert _result(out)["epochs"] == 1
    assert job.main([*TINY, "--epochs", "2", "--out", str(out)]) == 0
    log = capsys.readouterr().out
    assert "at epoch 2" in log
    res = _result(out)
    assert [h["epoch"] for h in res["history"]] == [1, 2] and res["finished"]
    assert 0.0 <= res["test_error"] <= 100.0
    ckpt = torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=True)
    assert ckpt["epoch"] == 2 and "auxiliary_head.classifier.weight" in ckpt["model"]
    assert not list(out.glob(".*tmp*"))  # atomic writes leave no temp files


def test_interrupted_run_matches_uninterrupted(job, tmp_path):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    assert job.main([*TINY, "--epochs", "2", "--out", str(whole)]) == 0
    assert job.main([*TINY, "--epochs", "2", "--stop-after", "1", "--out", str(parts)]) == 0
    assert not _result(parts)["finished"]
    assert job.main([*TINY, "--epochs", "2", "--out", str(parts)]) == 0
    strip = lambda h: [{k: v for k, v in row.items() if k != "seconds"} for row in h]  # noqa: E731
    assert strip(_result(parts)["history"]) == strip(_result(whole)["history"])


def test_refuses_a_checkpoint_of_another_run(job, tmp_path, capsys):
    out = tmp_path / "run"
    assert job.main([*TINY, "--epochs", "1", "--out", str(out)]) == 0
    assert job.main([*TINY[:-2], "--batch-size", "32", "--channels", "6", "--epochs", "2", "--out", str(out)]) == 2
    assert "different run" in capsys.readouterr().err


def test_library_run_is_the_job_and_reports_each_epoch(job, tmp_path):
    """robot_ray.train.final holds the protocol (the job is a shell over it): the same settings from
    the job's flags and from final_settings, the same history, and on_epoch sees every epoch."""
    from robot_ray.train import final

    args = job.parse_args([*TINY, "--epochs", "2", "--out", str(tmp_path / "job")])
    settings = final.final_settings("darts", dataset="digits", channels=4, layers=3, train_subset=64, test_subset=64,
                                    batch_size=32, epochs=2)
    assert job.settings_from_args(args) == settings
    assert job.main([*TINY, "--epochs", "2", "--out", str(tmp_path / "job")]) == 0
    rows = []
    result = final.run({**settings, "data_dir": None}, tmp_path / "lib", log=lambda line: None, on_epoch=rows.append)
    strip = lambda h: [{k: v for k, v in row.items() if k != "seconds"} for row in h]  # noqa: E731
    assert strip(rows) == strip(result["history"]) == strip(_result(tmp_path / "job")["history"])
