"""Baselines as Tune searchers: one contract suite over every method, on the real NB201 table.

The central check: a searcher driven trial by trial queries exactly what the method's ``run``
function queries with the same seed (one implementation, not two), also across save/restore and
pickling.
"""

from __future__ import annotations

import gc
import json
import math
import pickle
import threading
import time

import numpy as np
import pytest
from ray.tune.search import Searcher

from robot_ray.baselines import METHODS, rs
from robot_ray.baselines._common import new_ledger
from robot_ray.benchmarks import get_benchmark
from robot_ray.benchmarks.base import TabularBenchmark
from robot_ray.errors import RobotRayError
from robot_ray.metrics.matrix import read_metric_table
from robot_ray.tune.baseline_searcher import (
    BASELINE_SEARCHERS,
    BaselineSearcher,
    REASearcher,
    RSSearcher,
    SingleMetricSearcher,
    searcher_class,
)

T = 20
# Small predictor settings keep WeakNAS fast; the algorithm is the same.
RUN_OPTIONS = {
    "weaknas": {"hidden": (32, 32), "max_iter": 30, "init_samples": 4, "samples_per_iter": 4, "top_n": 20},
    "single_metric": {"metric": "nwot"},
}
SEARCHER_OPTIONS = {**RUN_OPTIONS, "single_metric": {"ranking_metric": "nwot"}}
NAMES = sorted(METHODS)
QUERIES = {"swapnas": 1}  # training-free: one query whatever the budget


@pytest.fixture(scope="module")
def bench(data_dir) -> TabularBenchmark:
    return get_benchmark("nb201", "cifar10", data_dir)


@pytest.fixture(scope="module")
def matrix(data_dir, bench):
    return read_metric_table(
        data_dir / "nasbench201" / "reference_metrics.parquet", ["synflow", "nwot"], dataset="cifar10",
        num_archs=bench.num_archs,
    )


def make(name, bench, matrix, *, budget=T, seed=3, metric="accuracy", mode="max", **extra) -> BaselineSearcher:
    cls = searcher_class(name)
    options = {**SEARCHER_OPTIONS.get(name, {}), **extra}
    return cls(bench, budget, seed, metric=metric, mode=mode, metrics=matrix, **options)


def run_ids(name, bench, matrix, *, budget=T, seed=3) -> list[int]:
    result = METHODS[name](bench, budget, seed, metrics=matrix, **RUN_OPTIONS.get(name, {}))
    return [r.arch_id for r in result.ledger.records]


def drive(searcher, bench, *, results=None, sign=1.0, start=0, answer=None) -> list[int]:
    """suggest -> benchmark answer -> on_trial_complete, until FINISHED or ``results`` results."""
    ids = []
    i = start
    while results is None or len(ids) < results:
        config = searcher.suggest(f"t{i}")
        if config == Searcher.FINISHED:
            break
        assert config is not None
        arch_id = config["arch_id"]
        ids.append(arch_id)
        q = bench.query(arch_id)
        result = {"accuracy": sign * q.value, "test_value": q.test_value, "cost": q.cost}
        searcher.on_trial_complete(f"t{i}", *(answer(arch_id, result) if answer else (result, False)))
        i += 1
    return ids


def wait_dead(thread: threading.Thread, timeout: float = 10.0) -> bool:
    thread.join(timeout)
    return not thread.is_alive()


@pytest.mark.parametrize("name", NAMES)
def test_same_architectures_as_run(name, bench, matrix):
    searcher = make(name, bench, matrix)
    first = searcher.suggest("t0")
    assert set(first) >= {"arch", "arch_id", "stage"} and first["stage"] == name
    assert first["arch"] == bench.arch(first["arch_id"]) and isinstance(first["arch_id"], int)
    assert searcher.suggest("other") is None  # one trial in flight
    searcher.on_trial_complete("t0", {"accuracy": bench.query(first["arch_id"]).value})
    ids = [first["arch_id"]] + drive(searcher, bench, start=1)
    assert ids == run_ids(name, bench, matrix)
    assert len(set(ids)) == QUERIES.get(name, T) and searcher.suggest("late") == Searcher.FINISHED
    hist = searcher.history()
    assert [h["arch_id"] for h in hist] == ids
    k = min(3, len(ids) - 1)  # the first trial above reported no test_value; later ones (drive) do
    assert hist[k]["value"] == bench.query(ids[k]).value
    assert hist[k]["test_value"] == bench.query(ids[k]).test_value if k else math.isnan(hist[k]["test_value"])
    best = searcher.best()
    assert best["accuracy"] == max(bench.query(i).value for i in ids) and best["stage"] == name
    assert best["arch"] == bench.arch(best["arch_id"])
    assert searcher._driver is None  # finished: the thread was told to stop


@pytest.mark.parametrize("name", NAMES)
def test_save_restore_continues_the_same_run(name, bench, matrix, tmp_path):
    searcher = make(name, bench, matrix)
    k = min(7, QUERIES.get(name, T))
    head = drive(searcher, bench, results=k)
    path = tmp_path / "state.json"
    searcher.save(str(path))
    state = json.loads(path.read_text())
    assert state["version"] == 1 and len(state["records"]) == k
    fresh = make(name, bench, matrix)
    fresh.restore(str(path))
    tail = drive(fresh, bench, start=k)
    assert head + tail == run_ids(name, bench, matrix)
    # the original keeps going too, after being saved
    assert head + drive(searcher, bench, start=k) == head + tail


@pytest.mark.parametrize("name", NAMES)
def test_pickle_mid_run_with_a_trial_in_flight(name, bench, matrix):
    searcher = make(name, bench, matrix)
    k = min(5, QUERIES.get(name, T) - 1)
    head = drive(searcher, bench, results=k)
    pending = searcher.suggest(f"t{k}")  # handed to Tune, not answered yet
    copy = pickle.loads(pickle.dumps(searcher))
    assert copy.suggest("x") is None  # the pending trial is still in flight
    copy.on_trial_complete(f"t{k}", {"accuracy": bench.query(pending["arch_id"]).value})
    tail = drive(copy, bench, start=k + 1)
    assert head + [pending["arch_id"]] + tail == run_ids(name, bench, matrix)


def test_mode_min_negates(bench, matrix):
    searcher = make("rea", bench, matrix, mode="min", metric="loss")
    ids = []
    i = 0
    while (config := searcher.suggest(f"t{i}")) != Searcher.FINISHED:
        ids.append(config["arch_id"])
        searcher.on_trial_complete(f"t{i}", {"loss": -bench.query(config["arch_id"]).value})
        i += 1
    assert ids == run_ids("rea", bench, matrix)
    assert searcher.best()["loss"] == -max(bench.query(a).value for a in ids)


def test_failed_trials_answer_nan(bench, matrix):
    """Errored, removed, metric-less and non-finite trials answer NaN, exactly like a NaN table entry."""
    failing = lambda arch_id: arch_id % 3 == 0  # noqa: E731
    modes = iter([(None, True), (None, False), ({"other": 1.0}, False), ({"accuracy": math.inf}, False)] * T)
    answer = lambda arch_id, result: next(modes) if failing(arch_id) else (result, False)  # noqa: E731
    searcher = make("rea", bench, matrix)
    ids = drive(searcher, bench, answer=answer)
    values = bench.values.copy()
    values[[i for i in range(bench.num_archs) if failing(i)]] = np.nan
    holey = TabularBenchmark(space=bench.space, dataset=bench.dataset, archs=bench.archs, values=values,
                             test_values=bench.test_values, costs=bench.costs, value_name="v", test_name="t")
    assert ids == run_ids("rea", holey, matrix)
    assert any(failing(i) for i in ids)
    assert all(math.isnan(h["value"]) == failing(h["arch_id"]) for h in searcher.history())
    assert not math.isnan(searcher.best()["accuracy"])


def test_metric_mode_missing_is_a_clear_error(bench, matrix):
    searcher = RSSearcher(bench, 5)
    assert searcher.best() is None and searcher.history() == []
    with pytest.raises(RuntimeError, match="RSSearcher.*metric.*mode.*TuneConfig"):
        searcher.suggest("t0")
    assert searcher.set_search_properties("accuracy", "max", {})
    assert searcher.suggest("t0")["stage"] == "rs"


def test_param_space_constants_pass_through_domains_do_not(bench, matrix):
    from ray import tune

    searcher = RSSearcher(bench, 5)
    with pytest.raises(RobotRayError, match="chooses the architectures itself.*lr"):
        searcher.set_search_properties("accuracy", "max", {"epochs": 3, "opt": {"lr": tune.uniform(0, 1)}})
    with pytest.raises(RobotRayError, match="grid"):
        searcher.set_search_properties("accuracy", "max", {"grid": tune.grid_search([1, 2])})
    with pytest.raises(RobotRayError, match="arch_id"):
        searcher.set_search_properties("accuracy", "max", {"arch_id": 3})
    assert searcher.set_search_properties("accuracy", "max", {"epochs": 3, "opt": {"lr": 0.1}})
    config = searcher.suggest("t0")
    assert config["epochs"] == 3 and config["opt"] == {"lr": 0.1} and "arch" in config
    assert searcher.set_max_concurrency(4) is False


def test_bad_options_fail_at_construction(bench, matrix):
    with pytest.raises(RobotRayError, match="variant"):
        REASearcher(bench, 10, variant="nope")
    with pytest.raises(RobotRayError, match="unknown option.*colour"):
        RSSearcher(bench, 10, colour="red")
    with pytest.raises(RobotRayError, match="lr"):
        BASELINE_SEARCHERS["reinforce"](bench, 10, lr=-1.0)
    with pytest.raises(RobotRayError, match="larger than the pool"):
        RSSearcher(bench, bench.num_archs + 1)
    with pytest.raises(RobotRayError, match="mode must be"):
        RSSearcher(bench, 10, metric="accuracy", mode="maximise")
    with pytest.raises(RobotRayError, match="metric matrix"):
        SingleMetricSearcher(bench, 10)
    with pytest.raises(RobotRayError, match="ranking_metric=NAME.*synflow, nwot"):
        SingleMetricSearcher(bench, 10, metrics=matrix)
    with pytest.raises(RobotRayError, match="not in the matrix"):
        SingleMetricSearcher(bench, 10, metrics=matrix, ranking_metric="snip")
    with pytest.raises(RobotRayError, match="method=NAME"):
        BaselineSearcher(bench, 10)
    generic = BaselineSearcher(bench, 10, method="single-metric", metrics=matrix, ranking_metric="nwot")
    assert generic.method == "single_metric"


def test_restore_checks_identity_and_replay(bench, matrix):
    searcher = make("rea", bench, matrix)
    drive(searcher, bench, results=3)
    state = searcher.get_state()
    with pytest.raises(RobotRayError, match="'rea' search"):
        make("rs", bench, matrix).set_state(state)
    with pytest.raises(RobotRayError, match="same options"):
        make("rea", bench, matrix, variant="tournament").set_state(state)
    with pytest.raises(RobotRayError, match="version"):
        make("rea", bench, matrix).set_state({**state, "version": 99})
    tampered = json.loads(json.dumps(state))
    tampered["records"][1]["arch_id"] = (tampered["records"][1]["arch_id"] + 1) % bench.num_archs
    fresh = make("rea", bench, matrix)
    fresh.set_state(tampered)
    with pytest.raises(RobotRayError, match="diverged at query 2"):
        fresh.suggest("t3")
    with pytest.raises(RobotRayError, match="diverged"):  # and again: the failure sticks
        fresh.suggest("t3")


def test_thread_exception_reaches_suggest_as_robot_ray_error(bench, matrix, monkeypatch):
    def broken(benchmark, budget, seed, *, metrics=None, **options):
        ledger = new_ledger(benchmark, budget, "rs")
        ledger.query(0, stage="rs")
        raise ZeroDivisionError("boom after the first query")

    monkeypatch.setitem(METHODS, rs.NAME, broken)
    searcher = RSSearcher(bench, 5, metric="accuracy", mode="max")
    assert searcher.suggest("t0")["arch_id"] == 0
    searcher.on_trial_complete("t0", {"accuracy": 1.0})
    with pytest.raises(RobotRayError, match="ZeroDivisionError: boom after the first query"):
        searcher.suggest("t1")


def test_threads_do_not_leak(bench, matrix):
    searcher = make("rea", bench, matrix)
    drive(searcher, bench, results=2)
    thread = searcher._driver.thread
    assert thread.daemon and thread.is_alive()
    del searcher
    gc.collect()
    assert wait_dead(thread)
    done = make("rs", bench, matrix, budget=3)
    drive(done, bench, results=1)
    thread = done._driver.thread
    drive(done, bench, start=1)  # to FINISHED
    assert done._driver is None and wait_dead(thread)


@pytest.mark.parametrize("name", ["rs", "rea"])
def test_tuner_run(name, bench, matrix, ray_session, tmp_path):
    from ray import tune

    values = bench.values

    def trainable(config):
        tune.report({"accuracy": float(values[config["arch_id"]]), "epochs_seen": config["epochs"]})

    budget = 10
    searcher = make(name, bench, matrix, budget=budget, metric=None, mode=None)
    start = time.perf_counter()
    tuner = tune.Tuner(
        trainable,
        param_space={"epochs": 3},
        tune_config=tune.TuneConfig(search_alg=searcher, metric="accuracy", mode="max", num_samples=-1,
                                    max_concurrent_trials=4, reuse_actors=True),
        run_config=tune.RunConfig(storage_path=str(tmp_path), name=f"baseline_{name}", verbose=0),
    )
    grid = tuner.fit()
    elapsed = time.perf_counter() - start
    assert not grid.errors
    ids = [r.config["arch_id"] for r in grid]
    assert len(ids) == budget == len(set(ids))
    assert all(r.metrics["epochs_seen"] == 3 for r in grid)
    best = grid.get_best_result()
    assert searcher.best()["accuracy"] == best.metrics["accuracy"]
    assert searcher.best()["arch_id"] == best.config["arch_id"]
    # one trial at a time, so Tune's trial order is the method's own trajectory
    assert [h["arch_id"] for h in searcher.history()] == ids == run_ids(name, bench, matrix, budget=budget)
    print(f"{name}: Tuner with {budget} trials took {elapsed:.1f}s")
