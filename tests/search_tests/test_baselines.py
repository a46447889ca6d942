"""Contract tests run over every baseline on the real NB201 table, plus per-method checks."""

from __future__ import annotations

import numpy as np
import pytest

from robot_ray.benchmarks import get_benchmark
from robot_ray.benchmarks.base import TabularBenchmark
from robot_ray.errors import RobotRayError
from robot_ray.metrics.matrix import read_metric_table
from robot_ray.baselines import METHODS, get_method, run_all_metrics
from robot_ray.algorithm.encoding import cell_encoding, features
from robot_ray.spaces import nb201

T = 12
# Small predictor settings keep WeakNAS to a fraction of a second; the algorithm is the same.
OPTIONS = {
    "weaknas": {"hidden": (32, 32), "max_iter": 30, "init_samples": 4, "samples_per_iter": 4, "top_n": 20},
    "single_metric": {"metric": "nwot"},
}
SEED_FREE = {"single_metric"}  # deterministic by design: ranks by a metric
# swapnas queries only the arch its training-free evolution returns; on a complete matrix most seeds
# reach the same fitness maximum (its seed dependence is tested in test_prenas_swapnas.py)
ONE_QUERY = {"swapnas"}


def spent(name: str, budget: int) -> int:
    """Distinct queries a run of ``name`` makes with budget T: T, or 1 for the training-free swapnas."""
    return 1 if name in ONE_QUERY else budget


@pytest.fixture(scope="module")
def bench(data_dir) -> TabularBenchmark:
    return get_benchmark("nb201", "cifar10", data_dir)


@pytest.fixture(scope="module")
def matrix(data_dir, bench):
    return read_metric_table(
        data_dir / "nasbench201" / "reference_metrics.parquet",
        ["synflow", "nwot"],
        dataset="cifar10",
        num_archs=bench.num_archs,
    )


def _run(name, bench, matrix, seed, budget=T, **extra):
    return METHODS[name](bench, budget, seed, metrics=matrix, **{**OPTIONS.get(name, {}), **extra})


@pytest.mark.parametrize("name", sorted(METHODS))
def test_spends_exactly_budget_distinct_queries(name, bench, matrix):
    result = _run(name, bench, matrix, seed=3)
    ids = [r.arch_id for r in result.ledger.records]
    n = spent(name, T)
    assert len(ids) == n == len(set(ids))
    assert [r.query for r in result.ledger.records] == list(range(1, n + 1))
    assert result.summary()["queries"] == n


@pytest.mark.parametrize("name", sorted(METHODS))
def test_best_so_far_never_decreases_and_matches_queries(name, bench, matrix):
    recs = _run(name, bench, matrix, seed=5).ledger.records
    best = [r.best_value for r in recs]
    assert all(b2 >= b1 for b1, b2 in zip(best, best[1:]))
    assert best[-1] == max(r.value for r in recs)
    for r in recs:  # each record's best test value belongs to a queried arch with the best value
        assert r.best_test_value == bench.test_values[next(q.arch_id for q in recs if q.value == r.best_value)]


@pytest.mark.parametrize("name", sorted(METHODS))
def test_same_seed_same_trajectory_other_seed_differs(name, bench, matrix):
    ids = lambda seed: [r.arch_id for r in _run(name, bench, matrix, seed).ledger.records]  # noqa: E731
    assert ids(7) == ids(7)
    if name not in SEED_FREE | ONE_QUERY:
        assert ids(7) != ids(8)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_budget_of_one_and_too_large(name, bench, matrix):
    assert _run(name, bench, matrix, seed=0, budget=1).ledger.spent == 1
    with pytest.raises(RobotRayError, match="larger than the pool"):
        _run(name, bench, matrix, seed=0, budget=bench.num_archs + 1)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_unknown_option_is_a_user_error(name, bench, matrix):
    with pytest.raises(RobotRayError, match="unknown option"):
        _run(name, bench, matrix, seed=0, popsize=3)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_nan_values_do_not_break_the_budget(name, bench, matrix):
    values = bench.values.copy()
    values[::2] = np.nan  # half the pool "failed to train"
    holey = TabularBenchmark(
        space="nb201", dataset="cifar10", archs=bench.archs, values=values, test_values=bench.test_values,
        costs=bench.costs, value_name="v", test_name="t",
    )
    result = _run(name, holey, matrix, seed=1, budget=15)
    assert len({r.arch_id for r in result.ledger.records}) == spent(name, 15)


def test_rea_mutation_changes_exactly_one_edge_to_a_valid_cell(bench):
    enc = cell_encoding(bench)
    assert enc.ops == nb201.OPS
    rng = np.random.default_rng(0)
    for parent in rng.choice(bench.num_archs, size=300, replace=False):
        child = enc.mutate(int(parent), rng, exclude=lambda i: False)
        a, b = nb201.parse_arch(bench.arch(int(parent))), nb201.parse_arch(bench.arch(child))
        assert sum(x != y for x, y in zip(a, b)) == 1
    assert len(enc.neighbours(0)) == 6 * 4
    assert enc.mutate(0, rng, exclude=lambda i: True) is None


@pytest.mark.parametrize("variant", ["robot", "tournament"])
def test_rea_children_are_one_edge_from_an_earlier_query(variant, bench):
    result = METHODS["rea"](bench, 30, 2, variant=variant)
    assert result.extra["random_fills"] == 0
    cells = [nb201.parse_arch(r.arch) for r in result.ledger.records]
    pot = 30 // 3
    for i in range(pot, len(cells)):
        assert any(sum(x != y for x, y in zip(cells[i], c)) == 1 for c in cells[:i])


def test_rea_rejects_bad_settings(bench):
    with pytest.raises(RobotRayError, match="variant"):
        METHODS["rea"](bench, 10, 0, variant="aging")
    with pytest.raises(RobotRayError, match="population_size"):
        METHODS["rea"](bench, 10, 0, population_size=11)


def test_reinforce_falls_back_when_the_policy_is_stuck(bench):
    result = METHODS["reinforce"](bench, 10, 0, max_steps=3)
    assert result.extra["policy_steps"] == 3 and result.extra["random_fills"] >= 7
    assert result.ledger.spent == 10


def test_cell_methods_on_tnb101_take_the_ops_from_the_pool(data_dir):
    tnb = get_benchmark("tnb101_micro", "class_scene", data_dir)
    enc = cell_encoding(tnb)
    assert enc.ops == ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3")
    assert (enc.lookup >= 0).all()  # all 4^6 cells are in the pool
    for name in ("rea", "reinforce", "rs", "prenas"):
        assert METHODS[name](tnb, 10, 0).ledger.spent == 10


def test_darts_pool_supports_rs_weaknas_single_metric_swapnas_only(data_dir):
    from robot_ray.benchmarks import nb301

    darts = get_benchmark("darts", "cifar10", data_dir)
    mm = read_metric_table(nb301.metric_table(data_dir, ["nwot", "synflow"]), ["nwot", "synflow"], num_archs=darts.num_archs)
    assert features(darts).shape[0] == darts.num_archs
    for name in ("rs", "weaknas", "single_metric", "swapnas"):
        assert _run(name, darts, mm, seed=0).ledger.spent == spent(name, T)
    for name in ("rea", "reinforce", "prenas"):
        with pytest.raises(RobotRayError, match="cell"):
            METHODS[name](darts, T, 0)


def test_single_metric_queries_the_metric_top_and_summarises_all_metrics(bench, matrix):
    result = METHODS["single_metric"](bench, 5, 0, metrics=matrix, metric="synflow")
    top = matrix.arch_ids[np.argsort(-matrix.values[:, 0], kind="stable")[:5]]
    assert [r.arch_id for r in result.ledger.records] == top.tolist()
    with pytest.raises(RobotRayError, match="metric=NAME"):
        METHODS["single_metric"](bench, 5, 0, metrics=matrix)
    with pytest.raises(RobotRayError, match="needs a metric matrix"):
        METHODS["single_metric"](bench, 5, 0)
    summary = run_all_metrics(bench, 5, [0, 1], metrics=matrix)
    assert set(summary.mean_test) == {"synflow", "nwot"}
    assert summary.best == max(summary.mean_test.values())
    assert summary.average == pytest.approx(np.mean(list(summary.mean_test.values())))


def test_registry_names():
    assert set(METHODS) == {"rs", "rea", "reinforce", "weaknas", "single_metric", "prenas", "swapnas"}
    assert get_method("Single-Metric") is METHODS["single_metric"]
    with pytest.raises(RobotRayError, match="choose one of"):
        get_method("bananas")


def test_nan_first_query_does_not_poison_the_best(bench):
    values = bench.values.copy()
    values[:] = np.nan
    values[1:] = bench.values[1:]
    holey = TabularBenchmark(
        space="nb201", dataset="cifar10", archs=bench.archs, values=values, test_values=bench.test_values,
        costs=bench.costs, value_name="v", test_name="t",
    )
    from robot_ray.algorithm.ledger import QueryLedger

    ledger = QueryLedger(holey, 3)
    for arch_id in (0, 1, 2):
        ledger.query(arch_id, stage="x")
    assert ledger.best().arch_id in (1, 2)
