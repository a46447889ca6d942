"""WeakNAS: "Stronger NAS with Weaker Predictors" (Wu et al., NeurIPS 2021; VITA-Group/WeakNAS).

Each iteration fits a weak predictor on every arch queried so far (one-hot op encoding, value
z-normalised over the queried archs), ranks the whole pool by prediction, and queries M archs
drawn uniformly from the predicted top N that were not queried yet (when fewer than M are left
there, the next unqueried archs in predicted order fill up, as in their code). The first
``init_samples`` archs are uniform.

Defaults are the paper's NAS-Bench-201 command (README of VITA-Group/WeakNAS): ``--init_sample
10 --sample_each_iter 10 --top_start 100 --top_end 100 --predictor MLP --mlp_size 1000 1000
1000 1000 --mlp_iter 100 --sampling_method uniform --keep_old all``, i.e. init 10, M = 10,
N = 100, an MLP with four hidden layers of 1000 units, 100 Adam epochs. We use scikit-learn's
``MLPRegressor`` (their CPU code path also uses it); ``predictor="random_forest"`` (their
alternative, ``max_depth=10``) and ``"gbdt"`` (scikit-learn's histogram gradient boosting, in
place of their XGBoost option) are available.

Deviations: labels are z-normalised over the queried archs (their code normalises with the mean
and std of the whole table, which a search cannot know; an affine change of the target only
rescales the MLP's loss); values that are NaN are left out of the fit; the last iteration
queries only what is left of the budget.
"""

from __future__ import annotations

import warnings

import numpy as np

from robot_ray.benchmarks.base import TabularBenchmark
from robot_ray.errors import RobotRayError
from robot_ray.metrics.matrix import MetricMatrix
from robot_ray.baselines._common import new_ledger, reject_options
from robot_ray.algorithm.encoding import features
from robot_ray.algorithm.ledger import RunResult

NAME = "weaknas"
PREDICTORS = ("mlp", "random_forest", "gbdt")


def make_predictor(name: str, *, seed: int, hidden: tuple[int, ...], max_iter: int):
    """A fresh scikit-learn regressor with its own random state."""
    if name == "mlp":
        from sklearn.neural_network import MLPRegressor

        return MLPRegressor(hidden_layer_sizes=tuple(hidden), max_iter=max_iter, random_state=seed)
    if name == "random_forest":
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(n_estimators=100, max_depth=10, random_state=seed, n_jobs=1)
    if name == "gbdt":
        from sklearn.ensemble import HistGradientBoostingRegressor

        return HistGradientBoostingRegressor(max_iter=max_iter, random_state=seed)
    raise RobotRayError(f"unknown WeakNAS predictor {name!r}; choose one of {', '.join(PREDICTORS)}")


def predicted_order(X: np.ndarray, ids: np.ndarray, y: np.ndarray, model) -> np.ndarray:
    """All pool rows, best predicted first (ties keep row order)."""
    from threadpoolctl import threadpool_limits

    y = (y - y.mean()) / (y.std() or 1.0)
    # One BLAS thread: on a shared or Ray-packed machine, threaded GEMMs of this size run ~5x slower.
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore")  # 100 epochs on 10 points never "converges"; that is the point
        model.fit(X[ids], y)
        pred = model.predict(X)
    return np.argsort(-pred, kind="stable")


def run(
    benchmark: TabularBenchmark,
    budget: int,
    seed: int,
    *,
    metrics: MetricMatrix | None = None,
    init_samples: int = 10,
    samples_per_iter: int = 10,
    top_n: int = 100,
    predictor: str = "mlp",
    hidden: tuple[int, ...] = (1000, 1000, 1000, 1000),
    max_iter: int = 100,
    **options,
) -> RunResult:
    """Run WeakNAS for ``budget`` distinct queries. ``metrics`` is ignored.

    Args:
        init_samples: uniform archs before the first fit (paper: 10).
        samples_per_iter: M, archs queried per iteration (paper: 10).
        top_n: N, size of the predicted top set sampled from (paper: 100).
        predictor: ``"mlp"`` (paper), ``"random_forest"`` or ``"gbdt"``.
        hidden, max_iter: MLP hidden layer sizes and epochs (paper: 4 x 1000, 100).

    Raises:
        RobotRayError: sizes below 1, an unknown predictor or unknown options.
    """
    reject_options(NAME, options, ("init_samples", "samples_per_iter", "top_n", "predictor", "hidden", "max_iter"))
    if min(init_samples, samples_per_iter, top_n, max_iter) < 1:
        raise RobotRayError(
            "init_samples, samples_per_iter, top_n and max_iter must all be >= 1, got "
            f"{init_samples}, {samples_per_iter}, {top_n}, {max_iter}"
        )
    if predictor not in PREDICTORS:
        raise RobotRayError(f"unknown WeakNAS predictor {predictor!r}; choose one of {', '.join(PREDICTORS)}")
    ledger = new_ledger(benchmark, budget, NAME)
    X = features(benchmark)
    rng = np.random.default_rng(seed)
    for arch_id in rng.choice(benchmark.num_archs, size=min(init_samples, ledger.budget), replace=False):
        ledger.query(int(arch_id), stage=NAME)
    iterations = 0
    while not ledger.exhausted:
        iterations += 1
        ids = np.array([r.arch_id for r in ledger.records], dtype=np.int64)
        y = np.array([r.value for r in ledger.records], dtype=np.float64)
        finite = np.isfinite(y)
        if finite.sum() >= 2:
            model = make_predictor(predictor, seed=int(rng.integers(2**31)), hidden=hidden, max_iter=max_iter)
            order = predicted_order(X, ids[finite], y[finite], model)
        else:  # nothing to learn from yet: every arch is equally promising
            order = rng.permutation(benchmark.num_archs)
        want = min(samples_per_iter, ledger.budget - ledger.spent)
        top = [int(i) for i in order[:top_n] if not ledger.seen(int(i))]
        if len(top) >= want:
            picks = [top[int(i)] for i in rng.choice(len(top), size=want, replace=False)]
        else:
            rest = (int(i) for i in order[top_n:] if not ledger.seen(int(i)))
            picks = top + [next(rest) for _ in range(want - len(top))]
        for arch_id in picks:
            ledger.query(arch_id, stage=NAME)
    return RunResult(seed=seed, ledger=ledger, extra={"iterations": iterations})
