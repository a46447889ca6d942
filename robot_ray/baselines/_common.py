"""Pieces every baseline shares: the ledger, NaN-safe values, the uniform fall-back draw."""

from __future__ import annotations

import math

import numpy as np

from robot_ray.benchmarks.base import TabularBenchmark
from robot_ray.errors import RobotRayError
from robot_ray.algorithm.ledger import QueryLedger


def check_tabular(benchmark, method: str) -> TabularBenchmark:
    """Baselines read whole columns (archs, pool size), so they need a table."""
    if not getattr(benchmark, "tabular", False):
        raise RobotRayError(
            f"{method} needs a tabular benchmark (a TabularBenchmark), got {type(benchmark).__name__}: "
            "load one with robot_ray.benchmarks.get_benchmark"
        )
    return benchmark


def new_ledger(benchmark: TabularBenchmark, budget: int, method: str) -> QueryLedger:
    """A ledger after checking the benchmark and the budget (1 .. pool size)."""
    check_tabular(benchmark, method)
    if not isinstance(budget, (int, np.integer)) or isinstance(budget, bool):
        raise RobotRayError(f"budget must be an int, got {budget!r}")
    return QueryLedger(benchmark, int(budget))


def score(value: float) -> float:
    """A value usable for ranking: NaN (a failed evaluation) ranks below everything."""
    return -math.inf if math.isnan(value) else float(value)


def random_unseen(ledger: QueryLedger, rng: np.random.Generator) -> int:
    """A uniformly drawn arch id not yet queried (rejection first, exact draw when the pool is nearly spent)."""
    n = ledger.benchmark.num_archs
    for _ in range(64):
        arch_id = int(rng.integers(n))
        if not ledger.seen(arch_id):
            return arch_id
    unseen = np.setdiff1d(np.arange(n), np.array([r.arch_id for r in ledger.records], dtype=np.int64))
    if len(unseen) == 0:
        raise RuntimeError("every architecture of the pool has been queried")
    return int(unseen[int(rng.integers(len(unseen)))])


def reject_options(method: str, options: dict, allowed: tuple[str, ...] = ()) -> None:
    """Unknown keyword options are a user error (a typo would otherwise be silently ignored)."""
    if options:
        raise RobotRayError(
            f"{method} got unknown option(s) {', '.join(sorted(options))}; "
            f"it accepts: {', '.join(allowed) if allowed else 'none'}"
        )


# -- sampled DARTS pools (robot_ray.benchmarks.pool.DartsPool: compact codes, no arch strings) -----------------
NEAREST = 8
"""PRE-NAS on a sampled DARTS pool: a child is drawn among the parent's this-many nearest pool members."""


def pool_codes(benchmark) -> np.ndarray | None:
    """The ``(N, 32)`` compact codes of a sampled DARTS pool (one with ``codes``), else None.

    Tables (NB201, TNB101, the NB301-725 table) have arch strings and no ``codes``: None.
    """
    if getattr(benchmark, "space", None) != "darts":
        return None
    try:
        codes = benchmark.codes
    except AttributeError:
        return None
    return np.asarray(codes, dtype=np.int64)


def darts_onehot(codes: np.ndarray) -> np.ndarray:
    """float32 ``(N, 16*6 + 16*7)`` of ``(N, 32)`` compact codes: one-hot input node (0..5) and op
    (0..6) of every edge."""
    codes = np.asarray(codes, dtype=np.int64).reshape(-1, 32)
    n = len(codes)
    return np.hstack([np.eye(6, dtype=np.float32)[codes[:, 0::2]].reshape(n, -1),
                      np.eye(7, dtype=np.float32)[codes[:, 1::2]].reshape(n, -1)])


class DartsOpMutants:
    """True op-only mutants of DARTS genotypes, taken into a :class:`~robot_ray.benchmarks.pool.GrowingPool`.

    PRE-NAS with weight inheritance needs children of exactly their parent's topology (every
    node keeps its two input nodes), which a sampled pool almost never holds. Each of a parent's
    16 edges changes its op with probability 1/16 (at least one changes), to one of the 6 other
    ops; the child joins the pool (a new id unless the pool holds it already). The draws have
    fixed shapes, so the same ``rng`` state gives the same children.
    """

    def __init__(self, pool) -> None:
        self.pool = pool
        self.children = 0
        self.same_topology = 0

    def features(self, ids) -> np.ndarray:
        """:func:`darts_onehot` of pool or grown ids."""
        return darts_onehot(self.pool.codes_of(ids))

    def op_mutants(self, parents, rng: np.random.Generator) -> np.ndarray:
        """One child id per parent (a new or existing pool id)."""
        parents = np.asarray(parents, dtype=np.int64)
        codes = self.pool.codes_of(parents).astype(np.int64)
        n, edges = len(codes), codes.shape[1] // 2
        inputs, ops = codes[:, 0::2].copy(), codes[:, 1::2]
        flip = rng.random((n, edges)) * edges < 1.0
        forced = rng.integers(edges, size=n)
        shift = rng.integers(1, 7, size=(n, edges))
        flip[np.arange(n)[~flip.any(axis=1)], forced[~flip.any(axis=1)]] = True
        codes[:, 1::2] = np.where(flip, (ops + shift) % 7, ops)
        ids = self.pool.add(codes.astype(np.int8))
        self.children += n
        self.same_topology += int((self.pool.codes_of(ids)[:, 0::2] == inputs).all(axis=1).sum())
        return ids


class DartsPoolMoves:
    """Encoding and topology-first moves inside a sampled DARTS pool.

    A compact code holds, per cell (normal, reduce) and per edge (8 each), the edge's input node and
    its op (:mod:`robot_ray.spaces.darts`, each node's two edges in canonical order). The
    *topology* is the 16 input indices, the *ops* the 16 op indices.

    A sampled pool holds only the genotypes drawn, so an op-only mutant of a parent is almost never
    in it. :meth:`op_mutants` therefore draws each child uniformly among the parent's
    :data:`NEAREST` nearest pool members, ordered by (edges whose input differs, then edges whose op
    differs): a same-topology member comes first whenever the pool has one; otherwise the child has
    the nearest topology. :attr:`same_topology` counts the children that kept the parent's topology.
    """

    def __init__(self, codes: np.ndarray, nearest: int = NEAREST) -> None:
        self.codes = np.asarray(codes, dtype=np.int64)
        self.inputs, self.ops = self.codes[:, 0::2], self.codes[:, 1::2]
        self.nearest = int(nearest)
        self._memo: dict[int, np.ndarray] = {}
        self.children = 0
        self.same_topology = 0

    def onehot(self) -> np.ndarray:
        """float32 ``(N, 16*6 + 16*7)``: one-hot input node (0..5) and op (0..6) of every edge."""
        return darts_onehot(self.codes)

    def nearest_of(self, arch_id: int) -> np.ndarray:
        """The parent's nearest pool members (itself excluded), nearest first (memoised)."""
        hit = self._memo.get(arch_id)
        if hit is None:
            topo = (self.inputs != self.inputs[arch_id]).sum(axis=1)
            ops = (self.ops != self.ops[arch_id]).sum(axis=1)
            key = topo * (self.ops.shape[1] + 1) + ops
            key[arch_id] = np.iinfo(np.int64).max
            k = min(self.nearest, len(key) - 1)
            hit = np.empty(0, dtype=np.int64) if k < 1 else np.argsort(key, kind="stable")[:k]
            self._memo[arch_id] = hit
        return hit

    def op_mutants(self, parents, rng: np.random.Generator) -> np.ndarray:
        """One child per parent (see the class doc); -1 for a one-genotype pool."""
        parents = np.asarray(parents, dtype=np.int64)
        draws = rng.random(len(parents))  # a fixed number of draws: the same rng state gives the same children
        out = np.full(len(parents), -1, dtype=np.int64)
        for i, p in enumerate(parents.tolist()):
            near = self.nearest_of(p)
            if len(near):
                out[i] = near[int(draws[i] * len(near))]
                self.children += 1
                self.same_topology += int((self.inputs[out[i]] == self.inputs[p]).all())
        return out
