"""PRE-NAS: predictor-assisted evolutionary NAS (Peng et al., GECCO 2022; IEEE TEVC 27(1), 2023).

No code was released; this follows the papers' description on a table. Each generation makes
many *topologically homogeneous* offspring (op-only mutation: which edges are ``none`` stays the
parent's, :meth:`~robot_ray.algorithm.encoding.CellEncoding.op_mutants`), a predictor trained on
every architecture queried so far ranks them, and only the top few are queried:

1. query ``init_samples`` archs drawn uniformly (without replacement);
2. population = the ``population_size`` best queried archs (elitist);
3. each generation: ``offspring`` parents drawn by tournament (``tournament_size`` members of the
   population, the best wins), one op-only mutant each; the distinct, not yet queried children
   are ranked by the predictor and the top ``evaluated_per_gen`` are queried;
4. repeat until T distinct archs are spent (the last generation queries what is left of T).

The predictor (``predictor="random_forest"`` by default, the TEVC paper's best; ``"svr"``,
``"bayesian_ridge"``, ``"kernel_ridge"``, ``"linear"``, ``"mlp"`` as the other predictors it
compares, GCN excepted) is fitted on the queried archs' features and values (z-scored; NaN
values left out). Features (``features=``): ``"onehot"``, the one-hot op encoding of the six
edges, or ``"onehot+metrics"``, the same plus the row of the normalised
:class:`~robot_ray.metrics.matrix.MetricMatrix` (every zero-cost metric of the matrix; the
matrix must then cover the whole pool).

The papers' values for population, offspring, evaluated per generation and initial samples on
NAS-Bench-201 are not available to us; the defaults were chosen on a sensitivity run (see
docs/baselines.md). Guards: when a generation has fewer distinct unqueried children than it
needs, uniformly random unseen archs fill up (``extra["random_fills"]``); with fewer than two
finite values the predictor is skipped and children are taken in a random order.

On a sampled DARTS pool (:class:`~robot_ray.benchmarks.pool.DartsPool`, the live search's pool)
the encoding is the one-hot of every edge's input node and op, and a child is one of the parent's
nearest pool members, same topology first (:class:`~robot_ray.baselines._common.DartsPoolMoves`):
an op-only mutant of a sampled genotype is almost never in the pool. ``extra`` then counts the
children that kept their parent's topology (``same_topology_children``).

Weight inheritance (``inherit=True``, the papers' "high-fidelity weight inheritance over
generations"): every child is queried with its parent in the query's context
(:meth:`~robot_ray.benchmarks.base.Benchmark.query_in_context`: ``parent_arch`` and a
``lineage`` naming the run), so a live objective (:meth:`robot_ray.train.LiveObjective.query_arch`)
starts the child from the parent's trained weights; a table ignores it and answers as without.
On a DARTS pool, ``inherit=True`` also makes the children true op-only mutants
(:class:`~robot_ray.baselines._common.DartsOpMutants`) taken into a
:class:`~robot_ray.benchmarks.pool.GrowingPool` of this run, since only an exact same-topology
child can take its parent's weights; their ids continue after the pool's.
"""

from __future__ import annotations

import warnings

import numpy as np

from robot_ray.benchmarks.base import TabularBenchmark
from robot_ray.errors import RobotRayError
from robot_ray.metrics.matrix import MetricMatrix
from robot_ray.baselines._common import (
    DartsOpMutants, DartsPoolMoves, new_ledger, pool_codes, random_unseen, reject_options, score,
)
from robot_ray.benchmarks.pool import GrowingPool
from robot_ray.algorithm.encoding import cell_encoding
from robot_ray.algorithm.ledger import RunResult

NAME = "prenas"
PREDICTORS = ("random_forest", "svr", "bayesian_ridge", "kernel_ridge", "linear", "mlp")
FEATURES = ("onehot", "onehot+metrics")
OPTIONS = ("init_samples", "population_size", "offspring", "evaluated_per_gen", "tournament_size", "predictor",
           "features", "ops", "inherit")


def make_predictor(name: str, seed: int):
    """A fresh scikit-learn regressor (random state ``seed`` where it has one)."""
    if name == "random_forest":
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(n_estimators=100, random_state=seed, n_jobs=1)
    if name == "svr":
        from sklearn.svm import SVR

        return SVR()
    if name == "bayesian_ridge":
        from sklearn.linear_model import BayesianRidge

        return BayesianRidge()
    if name == "kernel_ridge":
        from sklearn.kernel_ridge import KernelRidge

        return KernelRidge(kernel="rbf")
    if name == "linear":
        from sklearn.linear_model import LinearRegression

        return LinearRegression()
    if name == "mlp":
        from sklearn.neural_network import MLPRegressor

        return MLPRegressor(hidden_layer_sizes=(64, 64), max_iter=200, random_state=seed)
    raise RobotRayError(f"unknown PRE-NAS predictor {name!r}; choose one of {', '.join(PREDICTORS)}")


def predict(model, X_train: np.ndarray, y: np.ndarray, X_new: np.ndarray) -> np.ndarray:
    """Fit on z-scored ``y`` and predict ``X_new`` (one BLAS thread, convergence warnings muted)."""
    from threadpoolctl import threadpool_limits

    y = (y - y.mean()) / (y.std() or 1.0)
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore")  # an MLP on 10 points never "converges"
        model.fit(X_train, y)
        return np.asarray(model.predict(X_new), dtype=np.float64)


def _feature_matrix(benchmark: TabularBenchmark, enc, metrics: MetricMatrix | None, features: str):
    """``ids -> (k, d) float32`` features of pool ids (a growing pool computes them on demand)."""
    if isinstance(enc, DartsOpMutants):
        if features != "onehot":
            raise RobotRayError(
                "prenas with inherit=True on a DARTS pool generates genotypes no metric cache holds: "
                "use features='onehot'"
            )
        return enc.features
    onehot = enc.onehot()
    if features == "onehot":
        return onehot.__getitem__
    if metrics is None:
        raise RobotRayError(
            "prenas with features='onehot+metrics' needs a metric matrix: pass metrics=MetricMatrix "
            "(--metrics on the CLI), or features='onehot'"
        )
    ids = np.asarray(metrics.arch_ids, dtype=np.int64)
    if len(ids) != benchmark.num_archs or not np.array_equal(np.sort(ids), np.arange(benchmark.num_archs)):
        raise RobotRayError(
            f"prenas with features='onehot+metrics' needs metrics for every arch of the pool "
            f"({benchmark.num_archs}), the matrix covers {len(ids)}: use a complete table or features='onehot'"
        )
    rows = np.empty(benchmark.num_archs, dtype=np.int64)
    rows[ids] = np.arange(len(ids))
    return np.hstack([onehot, metrics.values[rows].astype(np.float32)]).__getitem__


def run(
    benchmark: TabularBenchmark,
    budget: int,
    seed: int,
    *,
    metrics: MetricMatrix | None = None,
    init_samples: int = 10,
    population_size: int = 10,
    offspring: int = 100,
    evaluated_per_gen: int = 2,
    tournament_size: int = 2,
    predictor: str = "random_forest",
    features: str = "onehot",
    ops: tuple[str, ...] | None = None,
    inherit: bool = False,
    **options,
) -> RunResult:
    """Run PRE-NAS for ``budget`` distinct queries.

    Args:
        metrics: the zero-cost metrics used as extra features with ``features="onehot+metrics"``
            (ignored with ``"onehot"``).
        init_samples: uniform archs queried before the first generation (capped at T).
        population_size: the best queried archs that parent the offspring.
        offspring: op-only mutants made per generation (before removing repeats).
        evaluated_per_gen: children the predictor picks for a query per generation.
        tournament_size: population members drawn per parent; the best of them is the parent.
        predictor: ``"random_forest"`` (default) or another of :data:`PREDICTORS`.
        features: ``"onehot"`` or ``"onehot+metrics"``.
        ops: op names of the cell space; default read from the pool.
        inherit: query each child with its parent (weight inheritance in a live objective; on a
            DARTS pool, true op-only children in a growing pool). See the module doc.

    Raises:
        RobotRayError: not a cell space, bad sizes, unknown predictor/features/options, a
            metric-feature run without a complete matrix.
    """
    reject_options(NAME, options, OPTIONS)
    sizes = {"init_samples": init_samples, "population_size": population_size, "offspring": offspring,
             "evaluated_per_gen": evaluated_per_gen, "tournament_size": tournament_size}
    bad = {k: v for k, v in sizes.items() if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1}
    if bad:
        raise RobotRayError(f"prenas sizes must be ints >= 1, got {', '.join(f'{k}={v!r}' for k, v in bad.items())}")
    if predictor not in PREDICTORS:
        raise RobotRayError(f"unknown PRE-NAS predictor {predictor!r}; choose one of {', '.join(PREDICTORS)}")
    if features not in FEATURES:
        raise RobotRayError(f"unknown PRE-NAS features {features!r}; choose one of {', '.join(FEATURES)}")
    if not isinstance(inherit, bool):
        raise RobotRayError(f"prenas inherit must be True or False, got {inherit!r}")
    codes = pool_codes(benchmark) if ops is None else None
    if codes is not None and inherit:
        benchmark = GrowingPool(benchmark)
        enc = DartsOpMutants(benchmark)
    else:
        enc = cell_encoding(benchmark, ops=ops) if codes is None else DartsPoolMoves(codes)
    ledger = new_ledger(benchmark, budget, NAME)
    X = _feature_matrix(benchmark, enc, metrics, features)
    lineage = f"{NAME}-seed{seed}"
    parent_of: dict[int, int] = {}
    with_parent = inherited = 0

    def query(arch_id: int, parent: int | None = None) -> None:
        nonlocal with_parent, inherited
        context = None
        if inherit:
            context = {"lineage": lineage}
            if parent is not None:
                context["parent_arch"] = benchmark.arch(parent)
                with_parent += 1
        answer, _ = ledger.query(arch_id, stage=NAME, context=context)
        inherited += int(bool(answer.inherited))  # the objective found the parent's weights and used them

    rng = np.random.default_rng(seed)
    for arch_id in rng.choice(benchmark.num_archs, size=min(init_samples, ledger.budget), replace=False):
        query(int(arch_id))
    generations = fills = fits = 0
    while not ledger.exhausted:
        generations += 1
        ranked = sorted(ledger.records, key=lambda r: -score(r.value))  # stable: earlier queries win ties
        population = np.array([r.arch_id for r in ranked[:population_size]], dtype=np.int64)
        fitness = np.array([score(r.value) for r in ranked[:population_size]])
        draws = rng.integers(len(population), size=(offspring, min(tournament_size, len(population))))
        winners = draws[np.arange(offspring), np.argmax(fitness[draws], axis=1)]  # first maximum wins a tie
        parents = population[winners]
        children = enc.op_mutants(parents, rng)
        _, first = np.unique(children, return_index=True)
        first = np.sort(first)
        candidates = [int(c) for c in children[first] if c >= 0 and not ledger.seen(int(c))]
        parent_of.update((int(c), int(p)) for c, p in zip(children[first], parents[first]) if c >= 0)
        want = min(evaluated_per_gen, ledger.budget - ledger.spent)
        ids = np.array([r.arch_id for r in ledger.records], dtype=np.int64)
        y = np.array([r.value for r in ledger.records], dtype=np.float64)
        finite = np.isfinite(y)
        if len(candidates) > want and finite.sum() >= 2:
            model = make_predictor(predictor, int(rng.integers(2**31)))
            pred = predict(model, X(ids[finite]), y[finite], X(np.array(candidates)))
            fits += 1
            order = np.argsort(-pred, kind="stable")
        else:
            order = rng.permutation(len(candidates))
        picks = [candidates[int(i)] for i in order[:want]]
        for arch_id in picks:
            query(arch_id, parent_of[arch_id])
        while len(picks) < want and not ledger.exhausted:  # too few new children this generation
            query(random_unseen(ledger, rng))
            picks.append(-1)
            fills += 1
    extra = {"generations": generations, "predictor_fits": fits, "random_fills": fills, "features": features}
    if isinstance(enc, DartsOpMutants):
        extra.update(mutation="darts-op-only", children=enc.children, same_topology_children=enc.same_topology,
                     grown_genotypes=benchmark.grown)
    elif codes is not None:
        extra.update(mutation="darts-pool-nearest", children=enc.children, same_topology_children=enc.same_topology)
    if inherit:
        # queried with a parent; and of those, trained from the parent's weights (a live objective
        # says so in its answer: a table never inherits, a missing weight file trains from scratch)
        extra.update(children_with_parent=with_parent, inherited_children=inherited)
    return RunResult(seed=seed, ledger=ledger, extra=extra)
