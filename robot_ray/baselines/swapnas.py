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

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from robot_ray.benchmarks.base import TabularBenchmark
from robot_ray.errors import RobotRayError
from robot_ray.metrics.matrix import MetricMatrix
from robot_ray.baselines._common import darts_onehot, new_ledger, pool_codes, reject_options
from robot_ray.algorithm.encoding import cell_encoding, features, is_cell_space
from robot_ray.algorithm.ledger import RunResult
from robot_ray.spaces import darts

log = logging.getLogger(__name__)

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
            self._codes = darts_onehot(codes[ids])
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



# -- the evolution, shared by the matrix (tables, pools) and the live DARTS fitness ----------------------------
class Memo:
    """A fitness memoised by key: ``memo(keys) -> values``, the unseen keys scored as one batch.

    Args:
        score_batch: ``keys -> values`` for keys not scored yet (distinct, in first-asked order).
        known: scores already computed (a resumed search's), used as if scored here.

    Attributes:
        scores: key -> fitness, in first-scored order (a resumed run's known scores where it asks them).
        calls: fitness calls made (one per key asked, repeats included).
        batches: calls of ``score_batch``; computed: keys it scored.
    """

    def __init__(self, score_batch: Callable[[list], Sequence[float]], known: dict | None = None) -> None:
        self.score_batch = score_batch
        self.known = dict(known or {})
        self.scores: dict = {}
        self.calls = self.batches = self.computed = 0

    def __call__(self, keys: Sequence) -> list[float]:
        self.calls += len(keys)
        new = [k for k in dict.fromkeys(keys) if k not in self.scores]
        for k in [k for k in new if k in self.known]:
            self.scores[k] = self.known[k]
        todo = [k for k in new if k not in self.scores]
        if todo:
            values = [float(v) for v in self.score_batch(todo)]
            if len(values) != len(todo):
                raise RuntimeError(f"the fitness scored {len(values)} of {len(todo)} architectures")
            self.batches += 1
            self.computed += len(todo)
            self.scores.update(zip(todo, values))
        return [self.scores[k] for k in keys]


def evolve(population: list, fitness: Memo, propose, rng: np.random.Generator, *, cycles: int, sample_size: int,
           mutations: int, remove: str = "worst", cross=None, after_cycle=None) -> list:
    """SWAP-NAS's evolution over architectures named by hashable keys; returns the final population.

    Each cycle draws ``sample_size`` members without replacement, takes the best as parent
    (``cross(a, b, rng)``: a crossover of the best two), makes ``mutations`` children with
    ``propose(parent, rng, count)`` (an empty list ends the search), scores them as one batch,
    adds the best-scoring child and removes the worst member (``"oldest"``: the oldest).
    ``after_cycle(cycle)`` runs after each cycle (a checkpoint). Ties: the earlier sampled member,
    the first child, the oldest of the worst. Fitness values must be numbers (NaN: map it first).
    """
    population = list(population)
    values = list(fitness(population))
    for cycle in range(cycles):
        sample = rng.choice(len(population), size=min(sample_size, len(population)), replace=False)
        ranked = sorted(sample.tolist(), key=lambda i: -values[i])  # stable: sample order breaks ties
        parent = population[ranked[0]]
        if cross is not None and len(ranked) > 1:
            parent = cross(parent, population[ranked[1]], rng)
        kids = propose(parent, rng, mutations)
        if len(kids) == 0:
            break
        kid_values = fitness(kids)
        best_kid = int(np.argmax(kid_values))
        population.append(kids[best_kid])
        values.append(kid_values[best_kid])
        drop = int(np.argmin(values)) if remove == "worst" else 0  # first minimum: the oldest of the worst
        del population[drop], values[drop]
        if after_cycle is not None:
            after_cycle(cycle)
    return population


LIVE_DEFAULTS = {"population_size": 50, "cycles": 200, "sample_size": 10, "mutations": 5, "crossover": False,
                 "remove": "worst"}
"""The live evolution's settings when not given (:func:`run_live`'s defaults, recorded with a search)."""


def check_sizes(population_size, cycles, sample_size, mutations, remove, crossover=False) -> None:
    """The evolution's settings: ints (cycles >= 0, the others >= 1), a known removal rule and a
    bool crossover (``"false"`` would be a true string)."""
    if not isinstance(crossover, (bool, np.bool_)):
        raise RobotRayError(f"swapnas crossover must be True or False, got {crossover!r}")
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
    check_sizes(population_size, cycles, sample_size, mutations, remove, crossover)
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

    def propose(parent: int, rng: np.random.Generator, count: int) -> list[int]:
        near = moves.neighbours(parent)
        if len(near) == 0:  # a one-arch pool: nothing to move to
            return []
        return [int(k) for k in near[rng.integers(len(near), size=count)]]

    population = [int(a) for a in ids[rng.choice(len(ids), size=min(population_size, len(ids)), replace=False)]]
    memo = Memo(lambda keys: [float(fit[row_of[a]]) for a in keys])
    evolve(population, memo, propose, rng, cycles=cycles, sample_size=sample_size, mutations=mutations,
           remove=remove, cross=moves.crossover if crossover else None)
    scored, calls = memo.scores, memo.calls
    best = max(scored, key=lambda a: scored[a])  # first scored wins a tie
    ledger.query(best, stage=NAME)
    return RunResult(seed=seed, ledger=ledger, extra={
        "fitness_metric": metrics.names[column],
        "fitness_evaluations": len(scored),
        "fitness_calls": calls,
        "best_fitness": scored[best],
        "search_queries": 0,
    })


# -- the live DARTS search: the whole space, children are true one-edge mutants --------------------------------
def mutate_codes(code: np.ndarray, rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` one-edge mutants of one DARTS compact code, ``(count, 32)`` int8, canonical.

    Each mutant changes one edge of one cell (normal or reduce, drawn uniformly): with probability
    1/2 its op (to one of the 6 others), else its input node (to one the node does not take yet,
    so a node's two inputs stay distinct, as :func:`robot_ray.spaces.darts.sample_codes` draws
    them; node 2, whose two inputs are the cell's two inputs, has no other and changes an op).
    Every mutant differs from the parent; two mutants may coincide.
    """
    parent = np.asarray(code, dtype=np.int8).reshape(darts.CODE_LENGTH)
    cells = parent.reshape(len(darts.CELLS), darts.EDGES_PER_CELL, 2)
    out = np.repeat(cells[None], count, axis=0)
    draws = rng.random((count, 4))  # a fixed number of draws per mutant
    num_ops = len(darts.OPS)
    for i in range(count):
        c = int(draws[i, 0] * len(darts.CELLS))
        if draws[i, 1] < 0.5:  # an op: any edge, any other op
            e = int(draws[i, 2] * darts.EDGES_PER_CELL)
            old = int(out[i, c, e, 1])
            out[i, c, e, 1] = (old + 1 + int(draws[i, 3] * (num_ops - 1))) % num_ops
        else:  # an input: an edge of nodes 3..5, a node input its node does not take yet
            e = 2 + int(draws[i, 2] * (darts.EDGES_PER_CELL - 2))
            node = e // 2 + 2
            taken = {int(out[i, c, e, 0]), int(out[i, c, e ^ 1, 0])}
            free = [j for j in range(node) if j not in taken]
            out[i, c, e, 0] = free[int(draws[i, 3] * len(free))]
    return darts.canonicalize_codes(out.reshape(count, darts.CODE_LENGTH))


def cross_codes(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per-node uniform crossover of two DARTS codes: each of the 8 nodes (4 per cell) with both its
    edges from ``a`` or from ``b``, so inputs stay valid and distinct; canonical ``(32,)`` int8."""
    take = rng.random(len(darts.CELLS) * darts.NUM_NODES) < 0.5
    a = np.asarray(a, dtype=np.int8).reshape(-1, 4)
    b = np.asarray(b, dtype=np.int8).reshape(-1, 4)
    return darts.canonicalize_codes(np.where(take[:, None], a, b).reshape(1, -1))[0]


LIVE_OPTIONS = tuple(LIVE_DEFAULTS)
"""Options of the evolution in :func:`run_live` (the scorer's are the scorer's own)."""


@dataclass
class LiveSearch:
    """What :func:`run_live` found.

    Attributes:
        best_code: the best-scoring genotype's canonical ``(32,)`` int8 code; best_hash its
            :func:`~robot_ray.spaces.darts.arch_hash`; best_fitness its fitness.
        hashes: the genotypes scored (distinct, first-scored order); codes: their ``(N, 32)`` codes;
            scores: their fitness (NaN where the scorer gave none).
        calls: fitness calls (population + cycles x M, repeats included); batches: scorer calls;
            computed: genotypes the scorer computed here (fewer than ``len(hashes)`` on a resume).
    """

    best_code: np.ndarray
    best_hash: str
    best_fitness: float
    hashes: list[str]
    codes: np.ndarray
    scores: list[float]
    calls: int
    batches: int
    computed: int
    crossover: bool = False
    children: int = 0
    one_edge_children: int = 0
    failed: int = 0  # genotypes whose score failed (NaN), ranked last

    def extra(self) -> dict:
        """The search's figures for a run's ``extra`` (summary.json)."""
        return {
            "fitness_metric": "swap_reg (live)",
            "fitness_evaluations": len(self.hashes),
            "fitness_calls": self.calls,
            "fitness_batches": self.batches,
            "best_fitness": self.best_fitness,
            "best_arch_hash": self.best_hash,
            "fitness_nan": self.failed,
            "search_queries": 0,
        }


def run_live(score_codes: Callable[[np.ndarray], Sequence[float]], seed: int, *, population_size: int = 50,
             cycles: int = 200, sample_size: int = 10, mutations: int = 5, crossover: bool = False,
             remove: str = "worst", known: dict[str, float] | None = None, after_cycle=None,
             **options) -> LiveSearch:
    """SWAP-NAS over the whole DARTS space with a live fitness; returns the best-scoring genotype.

    The same :func:`evolve` as the table version: the initial population is ``population_size``
    uniform genotypes (:func:`~robot_ray.spaces.darts.sample_codes`), a child is a one-edge
    mutant (:func:`mutate_codes`), a crossover is per node (:func:`cross_codes`). Genotypes are
    keyed by :func:`~robot_ray.spaces.darts.arch_hash`, so each is scored once; each cycle's M
    mutants go to ``score_codes`` as one batch.

    Args:
        score_codes: ``(n, 32)`` int8 codes -> n fitness values (NaN: failed; ranks last).
        seed: the evolution's seed (the population, the parents, the mutations).
        known: hash -> fitness scored earlier (a resumed search): used, not recomputed; the run
            is the one it would have been without the interruption.
        after_cycle: ``after_cycle(cycle, memo)`` after every cycle (a checkpoint hook).

    Raises:
        RobotRayError: bad sizes or unknown options.
    """
    reject_options(NAME, options, LIVE_OPTIONS)
    check_sizes(population_size, cycles, sample_size, mutations, remove, crossover)
    rng = np.random.default_rng(seed)
    code_of: dict[str, np.ndarray] = {}

    def keys(codes: np.ndarray) -> list[str]:
        hashes = darts.codes_hashes(codes).tolist()
        for h, c in zip(hashes, codes):
            code_of.setdefault(h, c)
        return hashes

    def score(hashes: list[str]) -> list[float]:
        values = np.asarray(score_codes(np.stack([code_of[h] for h in hashes])), dtype=np.float64)
        return [-math.inf if math.isnan(v) else float(v) for v in values]

    stats = {"children": 0, "one_edge": 0}

    def propose(parent: str, rng: np.random.Generator, count: int) -> list[str]:
        kids = mutate_codes(code_of[parent], rng, count)
        stats["children"] += count
        stats["one_edge"] += int(sum(edge_distance(code_of[parent], k) == 1 for k in kids))
        return keys(kids)

    def cross(a: str, b: str, rng: np.random.Generator) -> str:
        return keys(cross_codes(code_of[a], code_of[b], rng)[None])[0]

    known = {h: (-math.inf if v is None or math.isnan(v) else float(v)) for h, v in (known or {}).items()}
    memo = Memo(score, known)
    population = keys(darts.sample_codes(rng, population_size))
    evolve(population, memo, propose, rng, cycles=cycles, sample_size=sample_size, mutations=mutations,
           remove=remove, cross=cross if crossover else None,
           after_cycle=None if after_cycle is None else (lambda cycle: after_cycle(cycle, memo)))
    hashes = list(memo.scores)
    failed = sum(1 for h in hashes if memo.scores[h] == -math.inf)
    if failed == len(hashes):
        raise RobotRayError(
            f"every live SWAP score failed ({failed} genotypes, NaN): the scorer cannot run here (see the "
            "warnings above, e.g. CUDA out of memory); nothing is trained. Lower score_channels/score_layers "
            "or score_batch_size, or give the trial more memory"
        )
    if failed:
        log.warning("%d of %d live SWAP scores failed (NaN); they rank last", failed, len(hashes))
    best = max(hashes, key=lambda h: memo.scores[h])  # first scored wins a tie
    finite = lambda v: math.nan if math.isinf(v) else v  # noqa: E731
    return LiveSearch(
        best_code=code_of[best].copy(), best_hash=best, best_fitness=finite(memo.scores[best]), hashes=hashes,
        codes=np.stack([code_of[h] for h in hashes]), scores=[finite(memo.scores[h]) for h in hashes],
        calls=memo.calls, batches=memo.batches, computed=memo.computed, crossover=bool(crossover),
        children=stats["children"], one_edge_children=stats["one_edge"], failed=failed,
    )


def edge_distance(a: np.ndarray, b: np.ndarray) -> int:
    """Edges (of 16) whose (input, op) differ between two canonical codes, matched per node as sets.

    A node's two edges are compared as a pair in either order, so re-sorting by canonicalisation
    does not count as a change: a one-edge mutant is at distance 1 from its parent.
    """
    a = np.asarray(a, dtype=np.int64).reshape(-1, 2, 2)  # (8 nodes, 2 edges, input/op)
    b = np.asarray(b, dtype=np.int64).reshape(-1, 2, 2)
    ea = a[..., 0] * len(darts.OPS) + a[..., 1]
    eb = b[..., 0] * len(darts.OPS) + b[..., 1]
    same = (ea == eb).sum(axis=1)
    crossed = (ea == eb[:, ::-1]).sum(axis=1)
    return int((2 - np.maximum(same, crossed)).sum())
