"""RoBoT end to end on the real NB201 table: budget accounting, greedy stage, Ray path == plain loop."""

from __future__ import annotations

import glob
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from ray.tune.search import Searcher

from robot_ray.algorithm.ledger import QueryLedger
from robot_ray.algorithm.weights import greedy_candidates
from robot_ray.benchmarks import get_benchmark
from robot_ray.metric_sources import load_metrics
from robot_ray.metrics.matrix import read_metric_table
from robot_ray.runs.robot import EXPERIMENT, TUNE_DIR, RobotSettings, TuneSettings, robot_runner, run_robot
from robot_ray.tune.robot_searcher import RoBoTSearcher

METRICS = ["synflow", "snip", "nwot", "zen"]


@pytest.fixture(scope="module")
def bench(data_dir):
    return get_benchmark("nb201", "cifar10", data_dir)


@pytest.fixture(scope="module")
def matrix(data_dir, bench):
    return load_metrics("nb201", METRICS, dataset="cifar10", data_dir=data_dir)


def test_duplicate_proposal_spends_no_budget(data_dir, bench):
    ledger = QueryLedger(bench, 3)
    a, new_a = ledger.query(9930, stage="explore")
    b, new_b = ledger.query(9930, stage="explore")
    assert new_a and not new_b and a == b and ledger.spent == 1

    # seed 8 on CIFAR-100 with the paper's rule (keep) and start (sobol): GP-UCB re-proposes known
    # architectures (T0 4 of 7 proposals); each repeat is answered from memory, never a trial, never spent
    bench100 = get_benchmark("nb201", "cifar100", data_dir)
    metrics100 = load_metrics("nb201", METRICS, dataset="cifar100", data_dir=data_dir)
    budget = 8
    s = RoBoTSearcher(metrics100, budget, 8, metric="value", mode="max", repeats="keep", initial="sobol")
    suggested = []
    while (config := s.suggest(f"t{len(suggested)}")) != Searcher.FINISHED:
        assert config is not None, "a sequential run never has to wait"
        assert config["arch_id"] not in suggested, "a known architecture became a trial"
        suggested.append(config["arch_id"])
        assert s.spent == len(suggested)
        s.on_trial_complete(f"t{len(suggested) - 1}", {"value": bench100.query(config["arch_id"]).value})
    assert s.spent == len(suggested) == budget and s.finished
    assert s.proposals == budget - 1 > s.t0, "the paper's rule should repeat here, or this test shows nothing"
    # every proposal, repeats included, informed the GP and the best weight vector
    observed = s.get_state()["bo_obs"]
    assert sorted(rank for rank, _, _ in observed) == list(range(s.proposals))
    top = max(value for _, _, value in observed)
    tied = sorted(rank for rank, _, value in observed if value == top)
    assert len(tied) > 1  # a repeat tied the best value ...
    latest = next(w for rank, w, _ in observed if rank == tied[-1])
    assert s.best_weights() == pytest.approx(latest)  # ... and the later proposal wins the tie, as in the paper


def test_greedy_stage_stops_at_exactly_T_and_never_requeries(bench, matrix):
    run = robot_runner(bench, 8, 10, metrics=matrix, bo_rounds=4, init_trials=2)
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


def test_budget_larger_than_pool_is_refused(bench):
    from robot_ray.errors import RobotRayError

    small = read_metric_table(
        pd.DataFrame({"arch_id": np.arange(5), "m": np.arange(5.0)}), ["m"]
    )
    with pytest.raises(RobotRayError, match=r"budget must be in 1\.\.5"):
        robot_runner(bench, 6, 0, metrics=small)


@pytest.mark.parametrize("table_trials", ["seed", "query"])
def test_ray_path_equals_plain_loop(bench, matrix, ray_session, tmp_path, table_trials):
    settings = RobotSettings(budget=6, init_trials=2)
    ray_runs = run_robot(bench, matrix, [10, 11], settings, use_ray=True, out_dir=tmp_path, progress=False,
                         tune_settings=TuneSettings(table_trials=table_trials))
    plain_runs = run_robot(bench, matrix, [10, 11], settings, use_ray=False)
    assert [r.seed for r in ray_runs] == [r.seed for r in plain_runs] == [10, 11]
    for run, plain in zip(ray_runs, plain_runs):
        assert [r.arch_id for r in run.ledger.records] == [r.arch_id for r in plain.ledger.records]
        assert [r.stage for r in run.ledger.records] == [r.stage for r in plain.ledger.records]
        assert run.t0 == plain.t0
        assert run.best_weights == pytest.approx(plain.best_weights)
        assert plain.ledger.rows() == robot_runner(bench, 6, run.seed, metrics=matrix, init_trials=2).ledger.rows()
    if table_trials == "seed":  # a trial per seed, each reporting its searcher's state
        results = glob.glob(str(tmp_path / TUNE_DIR / EXPERIMENT / "seed_trial_*" / "result.json"))
        assert len(results) == 2
        return
    states = glob.glob(str(tmp_path / TUNE_DIR / EXPERIMENT / "searcher-state-*.pkl"))
    assert states, "the Tune experiment wrote no searcher state"
    saved = json.loads(open(sorted(states)[-1]).read())  # JSON despite the suffix
    assert sorted(saved["children"]) == ["10", "11"]


@pytest.mark.slow
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
