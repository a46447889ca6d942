"""PRE-NAS and SWAP-NAS on a live DARTS pool through ``robot_ray.run_search`` (Ray Tune trials), tiny:

a pool of 12 genotypes with ``swap`` and ``params`` precomputed (C=8, 5 cells: at C=4, 3 cells
``swap`` is constant over the pool), then each method with ``objective="live"``: every query a
Tune trial training the genotype (1 epoch, C=4, 3 cells, 96 images). Budget accounting as on the tables: PRE-NAS trains T distinct genotypes, SWAP-NAS
evolves on the cache's ``swap`` column without training and trains the returned genotype once.
The toy-scale CPU runs and the GPU recipe are in docs/darts.md.
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from click.testing import CliRunner

import robot_ray
from robot_ray.cache import read_cache_table
from robot_ray.cli import main

POOL = 12
BUDGET = 4
TRAIN = {"epochs": 1, "batch_size": 32, "train_subset": 96, "size": {"channels": 4, "layers": 3}}


@pytest.fixture(scope="module")
def swap_cache(tmp_path_factory, data_dir):
    cache = tmp_path_factory.mktemp("darts-swap") / "cache"
    result = CliRunner().invoke(main, [
        "precompute", "--space", "darts", "--dataset", "cifar10", "--data-dir", str(data_dir),
        "--metrics", "swap,params", "--archs", f"sample:{POOL}:0", "--batch-size", "16", "--channels", "8",
        "--cells", "5", "--shard-size", "8", "--out", str(cache), "--quiet",
    ])
    assert result.exit_code == 0, (result.output, result.exception)
    return cache


def _search(method: str, cache, data_dir, out, **options) -> tuple[dict, pd.DataFrame]:
    summary = robot_ray.run_search(
        space="darts", dataset="cifar10", cache=str(cache), data_dir=str(data_dir), objective="live",
        method=method, metrics=("swap", "params"), budget=BUDGET, seeds=(0,), train=TRAIN,
        trial_resources={"cpu": 1}, out=str(out), progress=False, method_options=options,
    )
    assert json.loads((out / "summary.json").read_text()) == json.loads(json.dumps(summary))
    assert (out / "search_config.json").is_file() and (out / "tune" / "robot").is_dir()  # one Tune experiment
    return summary, pd.read_parquet(out / "trajectory.parquet")


def _check_trained(summary: dict, traj: pd.DataFrame, method: str, queries: int, cache) -> dict:
    """``queries`` distinct pool genotypes, each trained in a trial; summary agrees with the trajectory."""
    assert len(traj) == queries and traj["arch_id"].nunique() == queries
    assert traj["query"].tolist() == list(range(1, queries + 1)) and (traj["stage"] == method).all()
    by_id = read_cache_table(cache).set_index("arch_id")["arch"]
    assert traj["arch"].tolist() == [by_id[a] for a in traj["arch_id"]]
    for col in ("value", "test_value"):
        assert all(math.isfinite(v) and 0 <= v <= 100 for v in traj[col]), traj[col]
    assert (traj["cost"] > 0).all()
    run = summary["runs"][0]
    best = traj.loc[traj["value"].idxmax()]
    assert run["queries"] == queries and run["best_arch_id"] == best["arch_id"] and run["best_value"] == best["value"]
    assert math.isclose(run["cost"], traj["cost"].sum())
    assert summary["method"] == method and summary["space"] == "darts" and summary["objective"] == "val_acc_live"
    assert summary["budget"] == BUDGET and summary["training"]["size"] == {"channels": 4, "layers": 3}
    return run


@pytest.mark.slow
def test_prenas_and_swapnas_live_through_tune(tmp_path, data_dir, swap_cache, ray_session, torch_one_thread):
    # PRE-NAS: 2 random genotypes, then 2 generations each training the predictor's pick: T trainings
    summary, traj = _search("prenas", swap_cache, data_dir, tmp_path / "prenas", init_samples=2,
                            population_size=2, offspring=8, evaluated_per_gen=1)
    run = _check_trained(summary, traj, "prenas", BUDGET, swap_cache)
    assert run["generations"] == 2 and run["mutation"] == "darts-pool-nearest" and run["children"] == 16

    # SWAP-NAS: the evolution reads the cache's swap column (no trial), then 1 training whatever T
    summary, traj = _search("swapnas", swap_cache, data_dir, tmp_path / "swapnas", population_size=4, cycles=5)
    run = _check_trained(summary, traj, "swapnas", 1, swap_cache)
    assert run["search_queries"] == 0 and run["fitness_metric"] == "swap" and run["fitness_evaluations"] >= 4
    assert 0.0 <= run["best_fitness"] <= 1.0  # the min-max normalised swap of the returned genotype


def test_live_refuses_table_only_baselines_and_no_ray(tmp_path):
    with pytest.raises(robot_ray.RobotRayError, match="works with --method robot, prenas, swapnas"):
        robot_ray.run_search(space="darts", cache=str(tmp_path), objective="live", method="rea", out=str(tmp_path))
    with pytest.raises(robot_ray.RobotRayError, match="drop --no-ray"):
        robot_ray.run_search(space="darts", cache=str(tmp_path), objective="live", method="swapnas",
                             use_ray=False, out=str(tmp_path))
