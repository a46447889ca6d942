"""SWAP-NAS: evolution with a training-free fitness (Peng et al., "SWAP-NAS: Sample-Wise
Activation Patterns for Ultra-fast NAS", ICLR 2024).

Training-free: the search itself queries nothing. The fitness is one column of the
:class:`~robot_ray.metrics.matrix.MetricMatrix` the caller passes (``fitness_metric=``; default
``swap_reg`` when the matrix has it, else its first column). Then the architecture with the best
fitness is queried once, so the run's ledger holds exactly **one** query whatever T is (T is
only checked, 1 .. pool size); ``extra`` reports the search's fitness evaluations.

The evolution (the issue's reading of the paper; population, cycles, S and M are not given there
for tables, so ours are documented choices, see docs/baselines.md):

1. a population of ``population_size`` archs drawn uniformly from those the matrix scores;
2. each of ``cycles`` cycles: draw ``sample_size`` members (S) without replacement; the best is
   the parent (``crossover=True``: a per-edge uniform crossover of the best two, when that cell
   is scored); make ``mutations`` (M) one-edge mutants of the parent, keep the best-scoring one,
   add it and remove the worst member (``remove="oldest"``: the oldest, as aging evolution);
3. return the best-scoring arch seen.

Mutation is a one-edge change to any other op (as REA's). When the matrix covers only part of the
pool (a sampled cache), a mutant must be scored: the parent's scored one-edge neighbours, else the
scored archs nearest to it in Hamming distance of the edge ops; on a non-cell pool (DARTS
genotypes) the nearest in the positional one-hot encoding (on a sampled DARTS pool, the live
search's, the one-hot of every edge's input node and op of the compact codes).

Regularisation: the paper multiplies the raw SWAP score by exp(-(P_K - mu)^2 / sigma), P_K the
parameters in thousands, mu = sigma set per run. A ``swap_reg`` column (robot-ray's metric
registry) is exactly that, computed before normalisation; use it. The matrix holds *normalised*
columns only, so with ``mu=`` (and optionally ``sigma=``, default ``mu``) and a ``params`` column the
fitness here becomes column x exp(-(p - mu)^2 / sigma) with p the params column min-max normalised
over the pool (0 = the smallest, 1 = the largest model): mu and sigma are in those units.
"""

from __future__ import annotations

import math

import numpy as np

from robot_ray.benchmarks.base import TabularBenchmark
from robot_ray.errors import RobotRayError
from robot_ray.metrics.matrix import MetricMatrix
from robot_ray.baselines._common import DartsPoolMoves, new_ledger, pool_codes, reject_options
from robot_ray.algorithm.encoding import cell_encoding, features, is_cell_space
from robot_ray.algorithm.ledger import RunResult

NAME = "swapnas"
DEFAULT_FITNESS = "swap_reg"
REMOVE = ("worst", "oldest")
OPTIONS = ("fitness_metric", "population_size", "cycles", "sample_size", "mutations", "crossover", "remove", "mu",
           "sigma", "ops")


def fitness_column(metrics: MetricMatrix | None, name: str | None) -> int:
    """Column index of the fitness: ``name``, else ``swap_reg`` if present, else the first column."""
    if metrics is None or not metrics.names:
        raise RobotRayError(
            "swapnas needs a metric matrix for its fitness: pass metrics=MetricMatrix (--metrics on the CLI), "
            "e.g. with swap_reg from a robot-ray precompute cache, or nwot/synflow from the published table"
        )
    if name is None:
        return metrics.names.index(DEFAULT_FITNESS) if DEFAULT_FITNESS in metrics.names else 0
    if name not in metrics.names:
        raise RobotRayError(f"fitness_metric {name!r} is not in the matrix; it has {', '.join(metrics.names)}")
    return metrics.names.index(name)


def fitness_values(metrics: MetricMatrix, column: int, mu: float | None, sigma: float | None) -> np.ndarray:
    """float64 fitness per matrix row: the column, times the params regulariser when ``mu`` is set."""
    fit = metrics.values[:, column].astype(np.float64)
    if mu is None:
        if sigma is not None:
            raise RobotRayError("swapnas: sigma= needs mu= (the regulariser is exp(-(p - mu)^2 / sigma))")
        return fit
    if "params" not in metrics.names:
        raise RobotRayError(
            f"swapnas: mu= regularises by model size and needs a 'params' column; the matrix has "
            f"{', '.join(metrics.names)}: add params to --metrics, or use a swap_reg column instead"
        )
    sigma = mu if sigma is None else sigma
    if not (math.isfinite(mu) and math.isfinite(sigma) and sigma > 0):
        raise RobotRayError(f"swapnas: mu and sigma must be finite and sigma > 0, got mu={mu}, sigma={sigma}")
    p = metrics.values[:, metrics.names.index("params")].astype(np.float64)
    return fit * np.exp(-((p - mu) ** 2) / sigma)


class _Moves:
    """Mutation and crossover restricted to the scored archs (ids with a matrix row)."""

    def __init__(self, benchmark: TabularBenchmark, ids: np.ndarray, row_of: np.ndarray, ops) -> None:
        self.ids, self.row_of = ids, row_of
        codes = pool_codes(benchmark) if ops is None else None
        if codes is not None:  # a sampled DARTS pool: no arch strings, its compact codes one-hot
            self.enc = None
            self._codes = DartsPoolMoves(codes).onehot()[ids]
        elif ops is not None or is_cell_space(benchmark):
            self.enc = cell_encoding(benchmark, ops=ops)
            self._codes = self.enc.codes[ids]
        else:
            self.enc = None
            self._codes = features(benchmark)[ids]
        self._memo: dict[int, np.ndarray] = {}

    def neighbours(self, arch_id: int) -> np.ndarray:
        """Scored archs one move from ``arch_id`` (memoised: evolution revisits parents)."""
        hit = self._memo.get(arch_id)
        if hit is not None:
            return hit
        near = np.empty(0, dtype=np.int64)
        if self.enc is not None:
            near = self.enc.neighbours(arch_id)
            near = near[self.row_of[near] >= 0]
        if len(near) == 0:  # partial matrix or a non-cell pool: the nearest scored archs
            me = self._codes[self.row_of[arch_id]]
            if self.enc is not None:
                dist = (self._codes != me).sum(axis=1)
            else:
                dist = np.abs(self._codes - me).sum(axis=1)
            dist = np.where(self.ids == arch_id, np.inf, dist)
            near = self.ids[dist == dist.min()] if np.isfinite(dist.min()) else near
        self._memo[arch_id] = near
        return near

    def crossover(self, a: int, b: int, rng: np.random.Generator) -> int:
        """Per-edge uniform crossover of two cells; ``a`` when the child is not scored."""
        take = rng.random(self.enc.num_edges) < 0.5
        child = self.enc.arch_id(np.where(take, self.enc.codes[a], self.enc.codes[b]))
        return child if child >= 0 and self.row_of[child] >= 0 else a


def run(
    benchmark: TabularBenchmark,
    budget: int,
    seed: int,
    *,
    metrics: MetricMatrix | None = None,
    fitness_metric: str | None = None,
    population_size: int = 50,
    cycles: int = 200,
    sample_size: int = 10,
    mutations: int = 5,
    crossover: bool = False,
    remove: str = "worst",
    mu: float | None = None,
    sigma: float | None = None,
    ops: tuple[str, ...] | None = None,
    **options,
) -> RunResult:
    """Evolve on the training-free fitness, then query the best arch once.

    Args:
        metrics: the metric matrix (required); its rows are the archs the search can reach.
        fitness_metric: the fitness column; default ``swap_reg`` if present, else the first.
        population_size: initial random population (capped at the number of scored archs).
        cycles: evolution cycles.
        sample_size: S, members drawn per cycle.
        mutations: M, mutants made per cycle (the best-scoring one is kept).
        crossover: cross the best two sampled members over before mutating (cell spaces only).
        remove: ``"worst"`` (default) or ``"oldest"`` member leaves after each cycle.
        mu, sigma: params regulariser on the normalised scale (see the module doc); off by default.
        ops: op names of a cell space; default read from the pool.

    Raises:
        RobotRayError: no matrix, unknown fitness metric, ids outside the pool, bad sizes or options.
    """
    reject_options(NAME, options, OPTIONS)
    sizes = {"population_size": population_size, "cycles": cycles, "sample_size": sample_size,
             "mutations": mutations}
    bad = {k: v for k, v in sizes.items() if not isinstance(v, (int, np.integer)) or isinstance(v, bool)
           or v < (0 if k == "cycles" else 1)}
    if bad:
        raise RobotRayError(
            "swapnas sizes must be ints (cycles >= 0, the others >= 1), got "
            + ", ".join(f"{k}={v!r}" for k, v in bad.items())
        )
    if remove not in REMOVE:
        raise RobotRayError(f"swapnas remove={remove!r}; choose one of {', '.join(REMOVE)}")
    column = fitness_column(metrics, fitness_metric)
    ledger = new_ledger(benchmark, budget, NAME)
    ids = np.asarray(metrics.arch_ids, dtype=np.int64)
    if len(ids) == 0 or ids.min() < 0 or ids.max() >= benchmark.num_archs:
        raise RobotRayError(
            f"metric matrix ids span {ids.min() if len(ids) else '-'}..{ids.max() if len(ids) else '-'}, outside "
            f"the {benchmark.space} pool 0..{benchmark.num_archs - 1}: the table belongs to another space"
        )
    fit = fitness_values(metrics, column, None if mu is None else float(mu), None if sigma is None else float(sigma))
    row_of = np.full(benchmark.num_archs, -1, dtype=np.int64)
    row_of[ids] = np.arange(len(ids))
    moves = _Moves(benchmark, ids, row_of, ops)
    if crossover and moves.enc is None:
        raise RobotRayError(f"swapnas crossover=True needs a cell space; {benchmark.space} is not one")
    rng = np.random.default_rng(seed)

    scored: dict[int, float] = {}  # arch id -> fitness, in first-scored order
    calls = 0

    def fitness(arch_id: int) -> float:
        nonlocal calls
        calls += 1
        value = scored.get(arch_id)
        if value is None:
            value = scored[arch_id] = float(fit[row_of[arch_id]])
        return value

    population = [int(a) for a in ids[rng.choice(len(ids), size=min(population_size, len(ids)), replace=False)]]
    values = [fitness(a) for a in population]
    for _ in range(cycles):
        sample = rng.choice(len(population), size=min(sample_size, len(population)), replace=False)
        ranked = sorted(sample.tolist(), key=lambda i: -values[i])  # stable: sample order breaks ties
        parent = population[ranked[0]]
        if crossover and len(ranked) > 1:
            parent = moves.crossover(parent, population[ranked[1]], rng)
        near = moves.neighbours(parent)
        if len(near) == 0:  # a one-arch pool: nothing to move to
            break
        kids = near[rng.integers(len(near), size=mutations)]
        kid_values = [fitness(int(k)) for k in kids]
        best_kid = int(np.argmax(kid_values))
        population.append(int(kids[best_kid]))
        values.append(kid_values[best_kid])
        drop = int(np.argmin(values)) if remove == "worst" else 0  # first minimum: the oldest of the worst
        del population[drop], values[drop]
    best = max(scored, key=lambda a: scored[a])  # first scored wins a tie
    ledger.query(best, stage=NAME)
    return RunResult(seed=seed, ledger=ledger, extra={
        "fitness_metric": metrics.names[column],
        "fitness_evaluations": len(scored),
        "fitness_calls": calls,
        "best_fitness": scored[best],
        "search_queries": 0,
    })
