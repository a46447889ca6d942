"""Normalised metric matrix and scoring, checked against brute-force loops on the real table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from robot_ray.errors import RobotRayError
from robot_ray.metrics.matrix import read_metric_table
from robot_ray.algorithm.scoring import iter_ranked, ranking, top1

METRICS = ["synflow", "snip", "nwot", "zen"]


@pytest.fixture(scope="module")
def reference(data_dir) -> pd.DataFrame:
    return pd.read_parquet(data_dir / "nasbench201" / "reference_metrics.parquet")


@pytest.fixture(scope="module")
def matrix(reference):
    return read_metric_table(reference, METRICS, dataset="cifar10", num_archs=15625)


def _brute_force_column(raw: list[float], log: bool) -> list[float]:
    vals = []
    for v in raw:
        ok = math.isfinite(v) and v != -1e8 and (v > 0 if log else True)
        vals.append((math.log(v) if log else v) if ok else None)
    good = [v for v in vals if v is not None]
    lo, hi = min(good), max(good)
    return [0.0 if v is None else (v - lo) / (hi - lo) for v in vals]


def test_normalisation_equals_brute_force(reference, matrix):
    rows = reference[reference.dataset == "cifar10"].sort_values("arch_index")
    for j, name in enumerate(METRICS):
        expect = _brute_force_column(rows[name].tolist(), log=name == "synflow")
        assert np.allclose(matrix.values[:, j], expect, atol=1e-6), name
    assert matrix.values.dtype == np.float32 and matrix.values.min() >= 0 and matrix.values.max() <= 1


def test_non_finite_values_are_reported(matrix):
    notes = " ".join(matrix.notes)
    assert "synflow (log; 341 non-positive)" in notes
    assert "zen" in notes and "NASLib -1e8 sentinels" in notes
    assert "nwot" in notes and "not finite" in notes


def test_argmax_and_ranking_equal_brute_force(matrix):
    rng = np.random.default_rng(0)
    X = matrix.values
    for _ in range(5):
        w = rng.uniform(-1, 1, X.shape[1]).astype(np.float32)
        scores = [sum(float(w[m]) * float(X[i, m]) for m in range(X.shape[1])) for i in range(len(X))]
        best = max(range(len(X)), key=lambda i: (scores[i], -i))
        assert top1(X, w) == best
        order = ranking(X, w)
        assert order[0] == best
        assert list(iter_ranked(X, w, chunk=500))[:2000] == order[:2000].tolist()


def test_constant_or_empty_columns_are_refused():
    ids = np.arange(5)
    with pytest.raises(RobotRayError, match="metric 'flat' is constant"):
        read_metric_table(pd.DataFrame({"arch_id": ids, "flat": 3.0}), ["flat"])
    with pytest.raises(RobotRayError, match="metric 'gone' has no finite value"):
        read_metric_table(pd.DataFrame({"arch_id": ids, "gone": np.nan}), ["gone"])


def test_bad_tables_are_refused(tmp_path, reference):
    with pytest.raises(RobotRayError, match="unknown metric.*grasp.*this table has: synflow, snip, nwot, zen"):
        read_metric_table(reference, ["grasp"], dataset="cifar10")
    dup = pd.DataFrame({"arch_id": [0, 0, 1], "m": [1.0, 2.0, 3.0]})
    with pytest.raises(RobotRayError, match="duplicate arch ids"):
        read_metric_table(dup, ["m"])
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(RobotRayError, match="cannot read metric table"):
        read_metric_table(bad, ["m"])


def test_iter_ranked_streams_ties_and_nan_in_ranking_order():
    """Chunk boundaries inside runs of tied scores, and NaN scores (ranked last, by row)."""
    rng = np.random.default_rng(1)
    for n, chunk in ((1, 1), (7, 3), (300, 1), (300, 7), (2000, 64)):
        X = (rng.integers(0, 4, size=(n, 3)) / 3).astype(np.float32)  # many exact ties
        X[rng.random(n) < 0.05, 1] = np.nan
        w = rng.uniform(-1, 1, 3).astype(np.float32)
        assert list(iter_ranked(X, w, chunk=chunk)) == ranking(X, w).tolist(), (n, chunk)


def test_load_metrics_names_a_benchmark_passed_for_its_space(data_dir):
    import robot_ray as rr
    from robot_ray.benchmarks import get_benchmark

    bench = get_benchmark("nb201", "cifar10", str(data_dir))
    with pytest.raises(rr.RobotRayError, match="got a TabularBenchmark: pass its name, 'nb201'"):
        rr.load_metrics(bench, ["synflow"], data_dir=str(data_dir))
    assert rr.load_metrics("nb201", "synflow, nwot", data_dir=str(data_dir)).names == ("synflow", "nwot")
