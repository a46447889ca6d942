"""Bad input on the command line: one clear line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from robot_ray.cli import main, parse_int_list
from robot_ray.errors import RobotRayError


def run(args: list[str], env: dict | None = None):
    return CliRunner().invoke(main, args, env=env)


def search(data_dir, *extra: str) -> list[str]:
    return ["search", "--no-ray", "--quiet", "--data-dir", str(data_dir), "--budget", "5", "--seeds", "0", *extra]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--metrics", "synflow,bogus"], "unknown metric(s) bogus"),
        (["--dataset", "svhn"], "unknown NB201 dataset 'svhn'"),
        (["--space", "nb101"], "unknown search space 'nb101'"),
        (["--budget", "20000"], "budget must be in 1..15625"),
        (["--seeds", "9-1"], "malformed seeds '9-1'"),
        (["--metrics", "nwot,nwot"], "names a metric twice"),
    ],
)
def test_bad_search_input_is_one_line_exit_2(data_dir, tmp_path, extra, message):
    result = run(search(data_dir, "--out", str(tmp_path), *extra))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_missing_data_dir(tmp_path):
    result = run(["search", "--no-ray", "--quiet", "--dataset", "cifar10", "--out", str(tmp_path)], env={"ROBOT_RAY_DATA": ""})
    assert result.exit_code == 2 and "--data-dir" in result.output and "ROBOT_RAY_DATA" in result.output
    result = run(["search", "--no-ray", "--data-dir", str(tmp_path / "missing"), "--out", str(tmp_path)])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_constant_metric_column_in_a_cache(data_dir, tmp_path):
    table = tmp_path / "cache.parquet"
    pd.DataFrame({"arch_id": np.arange(15625), "flat": 1.0, "ok": np.arange(15625.0)}).to_parquet(table)
    result = run(search(data_dir, "--cache", str(table), "--metrics", "ok,flat", "--out", str(tmp_path / "o")))
    assert result.exit_code == 2 and "metric 'flat' is constant" in result.output


def test_malformed_arch_string():
    result = run(["describe", "--space", "nb201", "--arch", "|nor_conv_3x3~0|+|oops|"])
    assert result.exit_code == 2 and "malformed nb201 arch string" in result.output


def test_baseline_search_writes_results(data_dir, tmp_path):
    result = run(search(data_dir, "--method", "rs", "--out", str(tmp_path)))
    assert result.exit_code == 0, result.output
    summary = pd.read_json(tmp_path / "summary.json", typ="series")
    assert summary["method"] == "rs" and len(summary["runs"]) == 1


def test_real_process_exit_code_and_single_line(data_dir, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "robot_ray", *search(data_dir, "--dataset", "svhn", "--out", str(tmp_path))],
        capture_output=True, text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and proc.stderr.startswith("robot-ray: error:")


def test_parse_int_list():
    assert parse_int_list("10-12,15") == [10, 11, 12, 15]
    with pytest.raises(RobotRayError):
        parse_int_list("a-b")
