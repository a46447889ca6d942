"""RoBoT end to end on the real NB201 table: budget accounting, greedy stage, Ray path == plain loop."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from robot_ray.benchmarks import get_benchmark
from robot_ray.metrics.matrix import read_metric_table
from robot_ray.algorithm.ledger import QueryLedger
from robot_ray.tune.ledger_actor import SearchLedgers
from robot_ray.runs.loop import run_robot
from robot_ray.algorithm.weights import greedy_candidates

METRICS = ["synflow", "snip", "nwot", "zen"]


@pytest.fixture(scope="module")
def bench(data_dir):
    return get_benchmark("nb201", "cifar10", data_dir)


@pytest.fixture(scope="module")
def matrix(data_dir, bench):
    return read_metric_table(data_dir / "nasbench201" / "reference_metrics.parquet", METRICS, dataset="cifar10")


def test_duplicate_proposal_spends_no_budget(bench):
    ledger = QueryLedger(bench, 3)
    a, new_a = ledger.query(9930, stage="explore")
    b, new_b = ledger.query(9930, stage="explore")
    assert new_a and not new_b and a == b and ledger.spent == 1
    books = SearchLedgers(bench, 3, [0])
    first = books.query(0, 9930, [0.1, 0.2], "explore", proposal=0)
    again = books.query(0, 9930, [0.3, 0.4], "explore", proposal=1)
    replay = books.query(0, 9930, [0.3, 0.4], "explore", proposal=1)  # a resumed run re-proposing
    assert first["new"] and not again["new"] and again["spent"] == 1
    assert not replay["new"] and len(books.proposals[0]) == 2  # the repeat still informs the best w
    assert books.best_weights(0) == pytest.approx([0.3, 0.4])  # later wins a tie, as in the paper


def test_greedy_stage_stops_at_exactly_T_and_never_requeries(bench, matrix):
    run = run_robot(bench, 8, seed=10, metrics=matrix, bo_rounds=4, init_trials=2)
    ids = [r.arch_id for r in run.ledger.records]
    assert len(ids) == len(set(ids)) == 8
    explore = [r for r in run.ledger.records if r.stage == "explore"]
    exploit = [r for r in run.ledger.records if r.stage == "exploit"]
    assert run.t0 == len(explore) <= 4 and len(exploit) == 8 - run.t0
    w = np.array(list(run.best_weights.values()), dtype=np.float32)
    expected = greedy_candidates(matrix.values, matrix.arch_ids, w, [r.arch_id for r in explore], 8 - run.t0)
    assert [r.arch_id for r in exploit] == expected
    best = [r.best_value for r in run.ledger.records]
    assert best == sorted(best)


def test_budget_larger_than_pool_is_refused(bench, matrix):
    from robot_ray.errors import RobotRayError

    small = read_metric_table(
        pd.DataFrame({"arch_id": np.arange(5), "m": np.arange(5.0)}), ["m"]
    )
    with pytest.raises(RobotRayError, match="budget 6 is larger than the pool of 5"):
        run_robot(bench, 6, seed=0, metrics=small)


def test_ray_path_equals_plain_loop(bench, matrix, ray_session, tmp_path):
    from robot_ray.runs.robot_tune import RayRobotConfig, run_robot_ray

    config = RayRobotConfig(budget=6, init_trials=2)
    ray_runs = run_robot_ray(bench, matrix, [10, 11], config, out_dir=tmp_path, progress=False)
    for run in ray_runs:
        plain = run_robot(bench, 6, run.seed, metrics=matrix, init_trials=2)
        assert [r.arch_id for r in run.ledger.records] == [r.arch_id for r in plain.ledger.records]
        assert [r.stage for r in run.ledger.records] == [r.stage for r in plain.ledger.records]
        assert run.t0 == plain.t0
        assert run.best_weights == pytest.approx(plain.best_weights)
    saved = json.loads((tmp_path / "ledgers.json").read_text())
    assert sorted(saved["seeds"]) == ["10", "11"]


def test_cli_tune_search_end_to_end_cifar10(data_dir, ray_session, tmp_path):
    from robot_ray.cli import main

    out = tmp_path / "run"
    result = CliRunner().invoke(
        main,
        ["search", "--space", "nb201", "--dataset", "cifar10", "--metrics", ",".join(METRICS), "--budget", "20",
         "--seeds", "10-12", "--data-dir", str(data_dir), "--out", str(out), "--quiet"],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["mean_test_value"] >= 94.0
    assert [r["queries"] for r in summary["runs"]] == [20, 20, 20]
    traj = pd.read_parquet(out / "trajectory.parquet")
    assert len(traj) == 60 and traj.groupby("seed")["arch_id"].nunique().eq(20).all()
    assert set(traj["stage"]) == {"explore", "exploit"}
    assert "seed  10:" in result.output and "test" in result.output
