"""NB201 benchmark table behind the Benchmark interface."""

from __future__ import annotations

import numpy as np
import pytest

from robot_ray.benchmarks import get_benchmark
from robot_ray.data import ENV_VAR, resolve_data_dir
from robot_ray.errors import RobotRayError


def test_paper_objective_is_cifar10_val_for_every_dataset(data_dir):
    c10 = get_benchmark("nb201", "cifar10", data_dir)
    for ds in ("cifar100", "ImageNet16-120"):
        b = get_benchmark("nb201", ds, data_dir)
        assert np.array_equal(b.values, c10.values) and np.array_equal(b.costs, c10.costs)
        assert not np.array_equal(b.test_values, c10.test_values)
    q = c10.query(6111)
    assert q.test_value == pytest.approx(94.3733, abs=1e-3)
    assert c10.arch_id(c10.arch(6111)) == 6111


def test_dataset_objective_uses_the_datasets_own_validation(data_dir):
    b = get_benchmark("nb201", "cifar100", data_dir, objective="dataset")
    assert b.value_name == "val_acc_12ep"
    assert not np.array_equal(b.values, get_benchmark("nb201", "cifar100", data_dir).values)


def test_bad_dataset_space_objective(data_dir):
    with pytest.raises(RobotRayError, match="unknown NB201 dataset 'svhn'"):
        get_benchmark("nb201", "svhn", data_dir)
    with pytest.raises(RobotRayError, match="unknown search space 'nb101'"):
        get_benchmark("nb101", "cifar10", data_dir)
    with pytest.raises(RobotRayError, match="unknown NB201 objective"):
        get_benchmark("nb201", "cifar10", data_dir, objective="test")


def test_missing_data_dir_names_flag_and_env(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(RobotRayError, match=f"--data-dir.*{ENV_VAR}"):
        resolve_data_dir(None)
    with pytest.raises(RobotRayError, match="does not exist"):
        resolve_data_dir(tmp_path / "nope")
    with pytest.raises(RobotRayError, match="nasbench201/benchmark.parquet not found"):
        get_benchmark("nb201", "cifar10", tmp_path)


def test_ranks_share_ties(data_dir):
    b = get_benchmark("nb201", "cifar10", data_dir)
    best = int(np.argmax(b.values))
    assert b.value_rank(best) == 1
    # all 341 disconnected cells tie at the bottom of the test ranking
    worst = int(np.argmin(b.test_values))
    assert b.test_rank(worst) == int(np.sum(b.test_values > b.test_values[worst])) + 1
