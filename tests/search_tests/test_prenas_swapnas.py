"""PRE-NAS and SWAP-NAS on the real NB201 table (and the committed 500-arch SWAP cache).

The contract shared with every baseline (budget, determinism, NaN values, unknown options, Tune
adapter replaying the run function) runs in test_baselines.py and
tune_tests/test_baseline_searchers.py; here: what is particular to these two methods.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from robot_ray.algorithm.encoding import cell_encoding
from robot_ray.baselines import METHODS, NEEDS_METRICS, prenas, swapnas
from robot_ray.benchmarks import get_benchmark
from robot_ray.benchmarks.base import TabularBenchmark
from robot_ray.errors import RobotRayError
from robot_ray.metrics.matrix import read_metric_table

REPO = Path(__file__).resolve().parents[2]
SWAP_CACHE = REPO / "docs" / "results" / "metrics_agreement" / "cifar10"  # 500 NB201 archs, swap/swap_reg/params


@pytest.fixture(scope="module")
def bench(data_dir) -> TabularBenchmark:
    return get_benchmark("nb201", "cifar10", data_dir)


@pytest.fixture(scope="module")
def matrix(data_dir, bench):
    return read_metric_table(data_dir / "nasbench201" / "reference_metrics.parquet", ["synflow", "snip", "nwot", "zen"],
                             dataset="cifar10", num_archs=bench.num_archs)


@pytest.fixture(scope="module")
def swap_matrix(data_dir):
    from robot_ray.metric_sources import load_metrics

    return load_metrics("nb201", ["nwot", "swap_reg", "params"], dataset="cifar10", cache=SWAP_CACHE, data_dir=data_dir)


def ids_of(result) -> list[int]:
    return [r.arch_id for r in result.ledger.records]


# -- PRE-NAS --------------------------------------------------------------------------------------
def test_op_mutants_keep_the_topology_and_change_an_op(bench, data_dir):
    enc = cell_encoding(bench)
    rng = np.random.default_rng(0)
    parents = rng.integers(bench.num_archs, size=3000)
    children = enc.op_mutants(parents, rng)
    movable = enc.topology(parents).any(axis=1)
    assert (children[~movable] == -1).all() and (children[movable] >= 0).all()
    p, c = parents[movable], children[movable]
    assert (enc.topology(p) == enc.topology(c)).all()  # which edges are `none` never changes
    changed = (enc.codes[p] != enc.codes[c]).sum(axis=1)
    assert changed.min() == 1 and changed.max() > 1  # at least one op, sometimes more
    empty = enc.arch_id([enc.none_code] * 6)
    assert enc.op_mutants(np.array([empty]), rng)[0] == -1  # the all-`none` cell has nothing to change
    # the same rng state gives the same children
    assert (enc.op_mutants(parents, np.random.default_rng(5)) == enc.op_mutants(parents, np.random.default_rng(5))).all()
    tnb = cell_encoding(get_benchmark("tnb101_micro", "class_scene", data_dir))
    kids = tnb.op_mutants(np.arange(tnb.codes.shape[0]), rng)
    ok = kids >= 0
    assert (tnb.topology(np.flatnonzero(ok)) == tnb.topology(kids[ok])).all()


@pytest.mark.parametrize("budget", [1, 7, 10, 17, 30])
def test_prenas_spends_exactly_the_budget(budget, bench):
    result = METHODS["prenas"](bench, budget, 4)
    ids = ids_of(result)
    assert len(ids) == budget == len(set(ids)) and result.summary()["queries"] == budget
    init = min(10, budget)
    assert result.extra["generations"] == -(-(budget - init) // 2)  # two per generation, the last takes the rest


def test_prenas_children_share_the_topology_of_an_earlier_query(bench):
    enc = cell_encoding(bench)
    result = METHODS["prenas"](bench, 40, 1, init_samples=6, evaluated_per_gen=3)
    assert result.extra["random_fills"] == 0
    topo = enc.topology(ids_of(result))
    for i in range(6, len(topo)):
        assert (topo[:i] == topo[i]).all(axis=1).any()


def test_prenas_parents_are_tournament_winners_from_the_population(bench, monkeypatch):
    from robot_ray.algorithm.encoding import CellEncoding

    seen = []
    real = CellEncoding.op_mutants
    monkeypatch.setattr(CellEncoding, "op_mutants", lambda self, parents, rng: seen.append(parents) or real(self, parents, rng))
    result = METHODS["prenas"](bench, 14, 2, init_samples=10, population_size=6, offspring=200, evaluated_per_gen=4)
    [parents] = seen  # one generation
    top6 = sorted(result.ledger.records[:10], key=lambda r: -r.value)[:6]
    assert set(parents.tolist()) <= {r.arch_id for r in top6}
    counts = np.array([(parents == r.arch_id).sum() for r in top6])
    # tournament of 2 over 6 ranked members: rank i wins with probability (11 - 2 i) / 36
    assert len(set(parents.tolist())) == 6 and (np.diff(counts) <= 15).all() and counts[0] > counts[-1]


def test_prenas_same_seed_same_run_other_seed_differs(bench, matrix):
    for features in ("onehot", "onehot+metrics"):
        a = METHODS["prenas"](bench, 20, 7, metrics=matrix, features=features)
        b = METHODS["prenas"](bench, 20, 7, metrics=matrix, features=features)
        assert ids_of(a) == ids_of(b) and a.extra == b.extra
        assert ids_of(a) != ids_of(METHODS["prenas"](bench, 20, 8, metrics=matrix, features=features))
    # the metric features change which children the predictor picks (same initial sample)
    one = METHODS["prenas"](bench, 20, 7, features="onehot")
    both = METHODS["prenas"](bench, 20, 7, metrics=matrix, features="onehot+metrics")
    assert ids_of(one)[:10] == ids_of(both)[:10] and ids_of(one) != ids_of(both)


def test_prenas_predictors_and_errors(bench, matrix, swap_matrix):
    for name in prenas.PREDICTORS:
        assert METHODS["prenas"](bench, 14, 0, init_samples=6, predictor=name).ledger.spent == 14
    with pytest.raises(RobotRayError, match="needs a metric matrix"):
        METHODS["prenas"](bench, 12, 0, features="onehot+metrics")
    with pytest.raises(RobotRayError, match="every arch of the pool"):
        METHODS["prenas"](bench, 12, 0, metrics=swap_matrix, features="onehot+metrics")
    with pytest.raises(RobotRayError, match="predictor"):
        METHODS["prenas"](bench, 12, 0, predictor="gcn")
    with pytest.raises(RobotRayError, match="offspring=0"):
        METHODS["prenas"](bench, 12, 0, offspring=0)
    assert "prenas" not in NEEDS_METRICS  # the default features need no matrix


# -- SWAP-NAS -------------------------------------------------------------------------------------
@pytest.mark.parametrize("budget", [1, 20, 100])
def test_swapnas_spends_one_query_whatever_the_budget(budget, bench, matrix):
    result = METHODS["swapnas"](bench, budget, 3, metrics=matrix, fitness_metric="nwot")
    [record] = result.ledger.records
    assert result.ledger.spent == 1 and result.summary()["queries"] == 1
    extra = result.extra
    assert extra["search_queries"] == 0 and extra["fitness_metric"] == "nwot"
    assert extra["fitness_calls"] == 50 + 200 * 5 and 50 <= extra["fitness_evaluations"] <= extra["fitness_calls"]
    row = int(np.flatnonzero(matrix.arch_ids == record.arch_id)[0])
    assert extra["best_fitness"] == float(matrix.values[row, matrix.names.index("nwot")])
    assert record.test_value == bench.test_values[record.arch_id]


def test_swapnas_same_seed_same_run_and_the_seed_matters(bench, matrix):
    run = lambda seed: METHODS["swapnas"](bench, 20, seed, metrics=matrix, fitness_metric="nwot", cycles=20)  # noqa: E731
    a, b = run(5), run(5)
    assert ids_of(a) == ids_of(b) and a.extra == b.extra
    assert len({(ids_of(r)[0], r.extra["fitness_evaluations"]) for r in map(run, range(6))}) > 1


def test_swapnas_fitness_column_choice(bench, matrix, swap_matrix):
    assert METHODS["swapnas"](bench, 5, 0, metrics=matrix).extra["fitness_metric"] == "synflow"  # first column
    assert METHODS["swapnas"](bench, 5, 0, metrics=swap_matrix).extra["fitness_metric"] == "swap_reg"  # default
    with pytest.raises(RobotRayError, match="needs a metric matrix"):
        METHODS["swapnas"](bench, 5, 0)
    with pytest.raises(RobotRayError, match="not in the matrix"):
        METHODS["swapnas"](bench, 5, 0, metrics=matrix, fitness_metric="swap")
    with pytest.raises(RobotRayError, match="'params' column"):
        METHODS["swapnas"](bench, 5, 0, metrics=matrix, mu=0.5)
    with pytest.raises(RobotRayError, match="sigma= needs mu="):
        METHODS["swapnas"](bench, 5, 0, metrics=matrix, sigma=0.5)
    with pytest.raises(RobotRayError, match="remove="):
        METHODS["swapnas"](bench, 5, 0, metrics=matrix, remove="youngest")


def test_swapnas_on_a_partial_cache_stays_on_scored_archs(bench, swap_matrix):
    scored = set(swap_matrix.arch_ids.tolist())
    col = swap_matrix.names.index("swap_reg")
    top = int(swap_matrix.arch_ids[np.argmax(swap_matrix.values[:, col])])
    found = []
    for seed in range(4):
        result = METHODS["swapnas"](bench, 20, seed, metrics=swap_matrix, crossover=seed % 2 == 1)
        [arch] = ids_of(result)
        assert arch in scored and result.extra["fitness_evaluations"] <= len(scored)
        found.append(arch)
    assert found[:2] == [top, top]  # seeds 0 and 1 reach the top swap_reg arch of the 500 (others stall)
    # mu regularisation on the normalised params column pulls the answer to small models
    p = swap_matrix.values[:, swap_matrix.names.index("params")]
    small = METHODS["swapnas"](bench, 20, 0, metrics=swap_matrix, mu=0.0, sigma=0.01)
    assert p[swap_matrix.arch_ids == ids_of(small)[0]][0] < 0.1 < p[swap_matrix.arch_ids == top][0]


def test_swapnas_is_the_only_one_query_method():
    assert swapnas.NAME in NEEDS_METRICS


# -- Tune and the comparison driver -----------------------------------------------------------------
def test_searchers_in_a_tuner(bench, matrix, ray_session, tmp_path):
    from ray import tune

    import robot_ray as rr

    values = bench.values

    def trainable(config):
        tune.report({"accuracy": float(values[config["arch_id"]])})

    for cls, options, expected in (
        (rr.PRENASSearcher, {"init_samples": 4, "evaluated_per_gen": 2}, METHODS["prenas"](bench, 8, 0, init_samples=4, evaluated_per_gen=2)),
        (rr.SWAPNASSearcher, {"metrics": matrix, "fitness_metric": "nwot"}, METHODS["swapnas"](bench, 8, 0, metrics=matrix, fitness_metric="nwot")),
    ):
        searcher = cls(bench, 8, 0, metric="accuracy", mode="max", **options)
        grid = tune.Tuner(
            trainable,
            tune_config=tune.TuneConfig(search_alg=searcher, metric="accuracy", mode="max", num_samples=-1,
                                        max_concurrent_trials=2),
            run_config=tune.RunConfig(storage_path=str(tmp_path), name=cls.__name__, verbose=0),
        ).fit()
        assert not grid.errors
        assert [h["arch_id"] for h in searcher.history()] == ids_of(expected)
        assert len(grid) == expected.ledger.spent  # swapnas: one trial


def test_compare_writes_prenas_and_swapnas_rows(bench, data_dir, ray_session, tmp_path):
    from robot_ray.runs.compare import run_comparison

    summaries = run_comparison(
        space="nb201", datasets=["cifar10"], methods=["prenas", "swapnas"], seeds=[0, 1], budget=12, out=tmp_path,
        data_dir=data_dir, metrics=["nwot"], method_options={"prenas": {"init_samples": 6}},
    )
    by = {s["method"]: s for s in summaries}
    assert set(by) == {"prenas", "swapnas"}
    assert [r["queries"] for r in by["prenas"]["runs"]] == [12, 12] and by["prenas"]["metrics"] is None
    # metric features: the matrix is loaded for prenas alone, and recorded
    [features] = run_comparison(
        space="nb201", datasets=["cifar10"], methods=["prenas"], seeds=[0], budget=12, out=tmp_path,
        data_dir=data_dir, metrics=["nwot", "synflow"], label="metrics",
        method_options={"prenas": {"init_samples": 6, "features": "onehot+metrics"}},
    )
    assert features["method"] == "prenas@metrics" and features["metrics"] == ["nwot", "synflow"]
    assert features["runs"][0]["features"] == "onehot+metrics"
    assert [r["queries"] for r in by["swapnas"]["runs"]] == [1, 1]
    assert by["swapnas"]["runs"][0]["fitness_metric"] == "nwot" and by["swapnas"]["metrics"] == ["nwot"]
    saved = json.loads((tmp_path / "nb201" / "cifar10" / "swapnas" / "summary.json").read_text())
    assert saved["runs"][1]["fitness_evaluations"] > 0
