"""RoBoTSearcher's contract, on the real NB201 table: all of RoBoT inside one Tune searcher.

Driven without Tune here (suggest / on_trial_result / on_trial_complete, exactly Tune's calls),
so each property is checked in seconds; tests/tune_tests/test_robot_tuner.py runs real Tuners.
"""

from __future__ import annotations

import math
import pickle
import random

import numpy as np
import pandas as pd
import pytest
from ray import tune
from ray.tune.search import ConcurrencyLimiter, Searcher

import robot_ray as rr
from robot_ray.errors import RobotRayError
from robot_ray.tune.robot_searcher import RoBoTSearcher

METRICS = ["synflow", "snip", "nwot", "zen"]


@pytest.fixture(scope="module")
def bench(data_dir):
    return rr.get_benchmark("nb201", dataset="cifar10", data_dir=data_dir)


@pytest.fixture(scope="module")
def metrics(data_dir):
    return rr.load_metrics("nb201", METRICS, dataset="cifar10", data_dir=data_dir)


@pytest.fixture(scope="module")
def metrics100(data_dir):
    return rr.load_metrics("nb201", METRICS, dataset="cifar100", data_dir=data_dir)


def sequential(searcher, bench, *, start: int = 0, limit: int | None = None) -> list[dict]:
    """Suggest and complete one trial at a time until FINISHED (or ``limit`` trials)."""
    configs = []
    i = start
    while limit is None or len(configs) < limit:
        config = searcher.suggest(f"t{i}")
        if config == Searcher.FINISHED:
            break
        assert config is not None, "a sequential searcher must always have a suggestion"
        configs.append(config)
        searcher.on_trial_complete(f"t{i}", {"value": bench.query(config["arch_id"]).value})
        i += 1
    return configs


def concurrent(searcher, bench, width: int, seed: int = 0) -> tuple[list[dict], int]:
    """Keep ``width`` trials in flight, completing a random one at a time; returns (configs, Nones)."""
    rng = random.Random(seed)
    running: dict[str, dict] = {}
    configs, nones, i = [], 0, 0
    while True:
        while len(running) < width:
            config = searcher.suggest(f"c{i}")
            if config == Searcher.FINISHED:
                assert not running
                return configs, nones
            if config is None:
                nones += 1
                break
            running[f"c{i}"] = config
            configs.append(config)
            i += 1
        assert running, "None with nothing running would wait forever"
        tid = rng.choice(sorted(running))
        config = running.pop(tid)
        searcher.on_trial_complete(tid, {"value": bench.query(config["arch_id"]).value})


def test_sequential_run_is_all_of_robot(bench, metrics):
    s = RoBoTSearcher(metrics, 20, 10, metric="value", mode="max")
    configs = sequential(s, bench)
    ids = [c["arch_id"] for c in configs]
    assert len(ids) == len(set(ids)) == 20 and s.suggest("end") == Searcher.FINISHED
    stages = [c["stage"] for c in configs]
    assert stages == sorted(stages, key=lambda x: x != "explore")  # explore first, then exploit
    assert s.t0 == stages.count("explore") and s.t0 >= 1
    # the first M proposals are each metric alone (corners)
    assert [c["weights"] for c in configs[:4]] == [{m: float(m == n) for m in METRICS} for n in METRICS]
    for c in configs:
        assert c["arch"] == bench.arch(c["arch_id"]) and set(c) >= {"arch", "arch_id", "weights", "stage"}
    best = s.best()
    assert best["arch_id"] == 9930 and best["value"] == pytest.approx(bench.query(9930).value)
    assert bench.query(best["arch_id"]).test_value == pytest.approx(94.36, abs=0.01)
    # the greedy stage follows the best weight vector's ranking
    from robot_ray.algorithm.weights import greedy_candidates

    explore = [c["arch_id"] for c in configs if c["stage"] == "explore"]
    expected = greedy_candidates(metrics.values, metrics.arch_ids, s.best_weights(), explore, 20 - s.t0)
    assert [c["arch_id"] for c in configs if c["stage"] == "exploit"] == expected


def test_same_seed_same_run_other_seed_other_run(bench, metrics):
    a = [c["arch_id"] for c in sequential(RoBoTSearcher(metrics, 8, 3, metric="value", mode="max"), bench)]
    b = [c["arch_id"] for c in sequential(RoBoTSearcher(metrics, 8, 3, metric="value", mode="max"), bench)]
    c = [c["arch_id"] for c in sequential(RoBoTSearcher(metrics, 8, 4, metric="value", mode="max",
                                                        initial="sobol"), bench)]
    assert a == b and a != c


def test_a_repeated_architecture_is_never_a_trial(bench, metrics100):
    # seed 12 on CIFAR-100 is where the paper's rule re-proposes one architecture over and over
    s = RoBoTSearcher(metrics100, 20, 12, metric="value", mode="max", repeats="keep", initial="sobol")
    configs = sequential(s, bench)
    ids = [c["arch_id"] for c in configs]
    assert len(ids) == len(set(ids)) == s.spent == 20
    assert s.proposals == 19 and s.t0 < 19, "the paper's rule should repeat here, or this test shows nothing"
    novel = RoBoTSearcher(metrics100, 20, 12, metric="value", mode="max", initial="sobol")
    sequential(novel, bench)
    assert novel.replaced >= 1 and novel.t0 > s.t0


@pytest.mark.parametrize("width", [2, 4, 16])
def test_any_concurrency_never_raises_and_spends_exactly_T(bench, metrics, width):
    s = RoBoTSearcher(metrics, 20, 11, metric="value", mode="max")
    assert s.set_max_concurrency(width)
    configs, nones = concurrent(s, bench, width)
    ids = [c["arch_id"] for c in configs]
    assert len(ids) == len(set(ids)) == 20 and s.finished
    assert nones >= 1  # it said "not now" while Ax or the greedy switch waited for results
    assert s.best()["value"] == max(bench.query(i).value for i in ids)


def test_sobol_start_under_a_concurrency_limiter(bench, metrics):
    # Ax's initial design cannot go on while its point runs: "not now", never DataRequiredError
    limited = ConcurrencyLimiter(RoBoTSearcher(metrics, 12, 2, metric="value", mode="max", initial="sobol"),
                                 max_concurrent=3)
    configs, nones = concurrent(limited, bench, 3)
    assert len({c["arch_id"] for c in configs}) == 12 and nones >= 1


@pytest.mark.slow
def test_quality_at_concurrency_4_is_within_noise_of_sequential(bench, metrics):
    tests = []
    for seed in (10, 11, 12):
        s = RoBoTSearcher(metrics, 20, seed, metric="value", mode="max")
        s.set_max_concurrency(4)
        concurrent(s, bench, 4, seed)
        tests.append(bench.query(s.best()["arch_id"]).test_value)
    assert np.mean(tests) >= 94.0


def test_metric_and_mode_from_tune_or_a_clear_error(bench, metrics):
    s = RoBoTSearcher(metrics, 5, 0)
    with pytest.raises(RuntimeError, match="RoBoTSearcher.*TuneConfig"):
        s.suggest("t0")
    assert s.set_search_properties("acc", "min", {"lr": 0.1, "nested": {"depth": 2}})
    config = s.suggest("t0")
    assert config["lr"] == 0.1 and config["nested"] == {"depth": 2}
    s.on_trial_complete("t0", {"acc": 50.0})
    assert s.best()["acc"] == 50.0
    with pytest.raises(RobotRayError, match="search domains in param_space are not supported.*lr"):
        RoBoTSearcher(metrics, 5, 0).set_search_properties("acc", "max", {"lr": tune.uniform(0, 1)})
    with pytest.raises(RobotRayError, match="sets arch"):
        RoBoTSearcher(metrics, 5, 0).set_search_properties("acc", "max", {"arch": "x"})


def test_mode_min_minimises(bench, metrics):
    s = RoBoTSearcher(metrics, 10, 1, metric="loss", mode="min")
    i = 0
    while (c := s.suggest(f"t{i}")) != Searcher.FINISHED:
        s.on_trial_complete(f"t{i}", {"loss": 100 - bench.query(c["arch_id"]).value})
        i += 1
    plain = RoBoTSearcher(metrics, 10, 1, metric="value", mode="max")
    sequential(plain, bench)
    assert s.best()["arch_id"] == plain.best()["arch_id"]


def test_bad_settings_are_clear_errors(metrics):
    with pytest.raises(RobotRayError, match="budget must be in 1..15625"):
        RoBoTSearcher(metrics, 0)
    with pytest.raises(RobotRayError, match="budget must be an integer"):
        RoBoTSearcher(metrics, 2.5)
    with pytest.raises(RobotRayError, match="unknown repeat rule"):
        RoBoTSearcher(metrics, 5, repeats="skip")
    with pytest.raises(RobotRayError, match="unknown initial design 'grid'"):
        RoBoTSearcher(metrics, 5, initial="grid")
    with pytest.raises(RobotRayError, match="needs a MetricMatrix"):
        RoBoTSearcher(np.zeros((3, 2)), 2)
    with pytest.raises(RobotRayError, match="points_to_evaluate"):
        RoBoTSearcher(metrics, 5, points_to_evaluate=[3.5])


def test_points_to_evaluate_come_first_and_count(bench, metrics):
    arch = bench.arch(9930)
    s = RoBoTSearcher(metrics, 6, 0, metric="value", mode="max", points_to_evaluate=[arch, {"arch_id": 123}])
    configs = sequential(s, bench)
    assert [c["arch_id"] for c in configs[:2]] == [9930, 123]
    assert len({c["arch_id"] for c in configs}) == 6 and s.spent == 6


def test_add_evaluated_point_warm_starts_without_spending(bench, metrics):
    s = RoBoTSearcher(metrics, 6, 0, metric="value", mode="max")
    s.add_evaluated_point({"arch": bench.arch(9930)}, bench.query(9930).value)
    s.add_evaluated_point({"arch_id": 5}, math.nan)
    configs = sequential(s, bench)
    ids = [c["arch_id"] for c in configs]
    assert 9930 not in ids and 5 not in ids and len(set(ids)) == 6 == s.spent
    assert s.best()["arch_id"] == 9930 and s.best()["stage"] == "evaluated"


def test_only_a_finished_trial_is_an_observation(bench, metrics):
    """A trial stopped early (ASHA): Tune withholds the stopping result from on_trial_result."""
    s = RoBoTSearcher(metrics, 4, 0, metric="value", mode="max")
    a = s.suggest("a")
    s.on_trial_result("a", {"value": 99.0, "training_iteration": 1})
    s.on_trial_complete("a", {"value": 99.5, "training_iteration": 2})  # stopped at iteration 2
    b = s.suggest("b")
    for it in (1, 2):
        s.on_trial_result("b", {"value": 10.0 * it, "training_iteration": it})
    s.on_trial_complete("b", {"value": 20.0, "training_iteration": 2})  # ran to its end
    assert s.best()["arch_id"] == b["arch_id"] and s.best()["value"] == 20.0
    history = {h["arch_id"]: h for h in s.history()}
    assert history[a["arch_id"]]["status"] == "stopped" and history[a["arch_id"]]["value"] is None
    assert s.spent == 2
    # errored, NaN and removed-before-running trials
    c = s.suggest("c")
    s.on_trial_complete("c", None, error=True)
    d = s.suggest("d")
    s.on_trial_complete("d", None)  # removed while pending: nothing spent, the arch may come again
    assert s.spent == 3 and history.keys() | {c["arch_id"]} == {h["arch_id"] for h in s.history()}
    s.on_trial_complete("d", {"value": 1.0})  # duplicate / unknown completions are logged, not fatal
    assert s.suggest("e") is not None


@pytest.mark.parametrize("engine", ["gp", "ax"])
def test_live_searcher_matches_one_restored_every_round(bench, metrics100, tmp_path, engine):
    """The GP is refit from the data alone each round, so a searcher saved and restored before
    every round proposes exactly what a live one does (what Tuner.restore relies on)."""
    live = RoBoTSearcher(metrics100, 14, 12, metric="value", mode="max", engine=engine)
    hopping = RoBoTSearcher(metrics100, 14, 12, metric="value", mode="max", engine=engine)
    for i in range(14):
        a, b = live.suggest(f"t{i}"), hopping.suggest(f"t{i}")
        assert a == b, f"round {i}"
        value = bench.query(a["arch_id"]).value
        live.on_trial_complete(f"t{i}", {"value": value})
        hopping.on_trial_complete(f"t{i}", {"value": value})
        hopping.save(str(tmp_path / "s.json"))
        hopping = RoBoTSearcher.from_checkpoint(str(tmp_path / "s.json"))
    assert hopping.replaced == live.replaced >= 1 and live.suggest("end") == Searcher.FINISHED


def test_pickle_references_the_matrix_by_source(bench, metrics):
    s = RoBoTSearcher(metrics, 6, 0, metric="value", mode="max")
    sequential(s, bench, limit=3)
    blob = pickle.dumps(s)
    assert len(blob) < 200_000  # the 15,625 x 4 matrix is not in it
    back = pickle.loads(blob)
    assert back.metrics is not None and back.fingerprint == s.fingerprint
    assert [c["arch_id"] for c in sequential(back, bench, start=3)] == [c["arch_id"] for c in sequential(s, bench, start=3)]


def test_matrix_built_in_memory_travels_inside(bench):
    from robot_ray.metrics.matrix import read_metric_table

    table = pd.DataFrame({"arch_id": np.arange(50), "a": np.arange(50.0), "b": np.arange(50.0)[::-1] ** 2})
    matrix = read_metric_table(table, ["a", "b"])
    s = RoBoTSearcher(matrix, 5, 0, metric="value", mode="max")
    sequential(s, bench, limit=2)
    back = pickle.loads(pickle.dumps(s))
    assert back.suggest("x")["arch_id"] == s.suggest("x")["arch_id"]
    state_only = s.get_state()
    with pytest.raises(RobotRayError, match="made in memory"):
        RoBoTSearcher.from_state(state_only)
    assert RoBoTSearcher.from_state(state_only, matrix).spent == s.spent


def test_restore_refuses_a_changed_matrix(bench, metrics, data_dir, tmp_path):
    table = tmp_path / "m.parquet"
    frame = pd.DataFrame({"arch_id": metrics.arch_ids, **{m: metrics.values[:, i] for i, m in enumerate(METRICS)}})
    frame.to_parquet(table)
    mine = rr.load_metrics("nb201", METRICS, dataset="cifar10", cache=str(table), data_dir=data_dir)
    s = RoBoTSearcher(mine, 6, 0, metric="value", mode="max")
    sequential(s, bench, limit=2)
    s.save(str(tmp_path / "s.json"))
    frame.loc[0, "snip"] = 0.5
    frame.to_parquet(table)
    with pytest.raises(RobotRayError, match="changed since this search started"):
        RoBoTSearcher.from_checkpoint(str(tmp_path / "s.json"))
