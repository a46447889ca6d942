"""Encodings of a benchmark's pool for the baselines: cell op codes (for mutation and
policies) and a one-hot feature matrix (for WeakNAS's predictor).

Cell spaces (NAS-Bench-201, TransNAS-Bench-101-micro) share one notation (see
:mod:`robot_ray.spaces.cell`); the op list is read from the pool itself, or passed in, so the
4-op TNB101 space works without a hard-coded NB201 op list. Any other pool (e.g. the 725 DARTS
genotypes) gets a positional one-hot of its string tokens, which is enough for a predictor but
defines no mutation: cell-only methods call :func:`cell_encoding` and get a clear error.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from robot_ray.benchmarks.base import TabularBenchmark
from robot_ray.errors import RobotRayError
from robot_ray.spaces.cell import EDGES, parse_cell
from robot_ray.spaces.nb201 import OPS as NB201_OPS

_OP_RE = re.compile(r"\|([^|~+]+)~\d+")
_TOKEN_RE = re.compile(r"[A-Za-z0-9_.]+")
# Parsing 15,625 strings costs ~0.1 s; one memo per benchmark object keeps hundreds of seeds cheap.
_CELL_CACHE: "weakref.WeakKeyDictionary[TabularBenchmark, CellEncoding]" = weakref.WeakKeyDictionary()
_FEATURE_CACHE: "weakref.WeakKeyDictionary[TabularBenchmark, np.ndarray]" = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class CellEncoding:
    """A cell-space pool as op codes, with a lookup from codes back to benchmark ids.

    Attributes:
        ops: op names; code k means ``ops[k]``.
        codes: int8 ``(N, 6)``, the op code of each edge (edge order of :data:`EDGES`).
        lookup: int64 ``(K ** 6,)``, benchmark id of each code tuple read as a base-K number, or -1
            when that cell is not in the pool.
    """

    ops: tuple[str, ...]
    codes: np.ndarray
    lookup: np.ndarray

    @property
    def num_ops(self) -> int:
        return len(self.ops)

    @property
    def num_edges(self) -> int:
        return self.codes.shape[1]

    def key(self, codes: np.ndarray) -> np.ndarray:
        """Base-K number of code rows ``(..., 6)``."""
        powers = self.num_ops ** np.arange(self.num_edges - 1, -1, -1, dtype=np.int64)
        return np.asarray(codes, dtype=np.int64) @ powers

    def arch_id(self, codes: Sequence[int]) -> int:
        """Benchmark id of one code tuple, -1 when the cell is not in the pool."""
        return int(self.lookup[int(self.key(np.asarray(codes)))])

    def neighbours(self, arch_id: int) -> np.ndarray:
        """Ids of the pool cells that differ from ``arch_id`` on exactly one edge (any op change)."""
        parent = self.codes[arch_id].astype(np.int64)
        k, e = self.num_ops, self.num_edges
        cand = np.repeat(parent[None, :], e * (k - 1), axis=0)
        rows = np.arange(e * (k - 1))
        edge = rows // (k - 1)
        shift = rows % (k - 1) + 1  # 1..K-1: every op other than the current one
        cand[rows, edge] = (parent[edge] + shift) % k
        ids = self.lookup[self.key(cand)]
        return ids[ids >= 0]

    def mutate(self, arch_id: int, rng: np.random.Generator, *, exclude: Callable[[int], bool]) -> int | None:
        """One-edge mutation to a different op, uniform over neighbours not ``exclude``-d.

        Drawing an edge and then a different op uniformly, and redrawing while the child is
        excluded (RoBoT's REA), is the same distribution; here it never loops forever.
        Returns None when every neighbour is excluded.
        """
        ids = [int(i) for i in self.neighbours(arch_id) if not exclude(int(i))]
        if not ids:
            return None
        return ids[int(rng.integers(len(ids)))]

    @property
    def none_code(self) -> int | None:
        """Code of the ``none`` op (a missing edge), or None when the space has no such op."""
        return self.ops.index("none") if "none" in self.ops else None

    def topology(self, arch_ids) -> np.ndarray:
        """bool ``(n, 6)``: which edges of each cell exist (op other than ``none``)."""
        codes = self.codes[np.asarray(arch_ids, dtype=np.int64)]
        none = self.none_code
        return np.ones(codes.shape, dtype=bool) if none is None else codes != none

    def op_mutants(self, parents, rng: np.random.Generator) -> np.ndarray:
        """One topology-preserving child per parent (PRE-NAS's topologically homogeneous offspring).

        Only existing edges change, each to another *existing-edge* op (never ``none``), so every
        child has its parent's topology. Each existing edge of a parent with k of them changes with
        probability 1/k, at least one changes. The random draws have fixed shapes (they do not
        depend on the parents' ops), so the same ``rng`` state gives the same children.

        Returns:
            int64 ``(n,)`` benchmark ids, -1 where the parent has no edge that can change or the
            child is not in the pool.
        """
        parents = np.asarray(parents, dtype=np.int64)
        codes = self.codes[parents].astype(np.int64)
        n, e = codes.shape
        none = self.none_code
        alt = np.array([k for k in range(self.num_ops) if k != none], dtype=np.int64)  # ops of an existing edge
        mutable = self.topology(parents) if len(alt) > 1 else np.zeros((n, e), dtype=bool)
        k = mutable.sum(axis=1)
        flip = (rng.random((n, e)) * np.maximum(k, 1)[:, None] < 1.0) & mutable
        forced = rng.random(n)  # the edge changed when no coin came up: the j-th existing one
        shift = rng.integers(1, max(len(alt), 2), size=(n, e))  # 1..len(alt)-1 steps along alt
        for i in np.flatnonzero((k > 0) & ~flip.any(axis=1)):
            flip[i, np.flatnonzero(mutable[i])[int(forced[i] * k[i])]] = True
        position = np.searchsorted(alt, codes)  # index of the current op in alt (existing edges only)
        changed = alt[(position + shift) % max(len(alt), 1)]
        child = np.where(flip, changed, codes)
        ids = self.lookup[self.key(child)]
        ids[k == 0] = -1
        return ids

    def onehot(self) -> np.ndarray:
        """float32 ``(N, 6 * K)`` one-hot of the edge ops (WeakNAS's NB201 encoding)."""
        n, e = self.codes.shape
        out = np.zeros((n, e, self.num_ops), dtype=np.float32)
        out[np.arange(n)[:, None], np.arange(e)[None, :], self.codes] = 1.0
        return out.reshape(n, e * self.num_ops)


def _order_ops(found: set[str]) -> tuple[str, ...]:
    known = [op for op in NB201_OPS if op in found]
    return tuple(known + sorted(found - set(known)))


def _build_cells(benchmark: TabularBenchmark, ops: Sequence[str] | None) -> CellEncoding:
    per_arch = [_OP_RE.findall(a) for a in benchmark.archs]
    if not per_arch or any(len(p) != len(EDGES) for p in per_arch):
        raise RobotRayError(
            f"the {benchmark.space} pool is not a 6-edge cell space (arch strings like "
            f"{benchmark.archs[0][:60]!r}...); this method supports NB201-style cells only "
            "(nb201, tnb101_micro): use rs, weaknas or single_metric for this space"
        )
    if ops is None:
        ops = _order_ops({op for p in per_arch for op in p})
    ops = tuple(ops)
    index = {op: k for k, op in enumerate(ops)}
    unknown = {op for p in per_arch for op in p} - set(ops)
    if unknown:
        raise RobotRayError(
            f"the {benchmark.space} pool uses ops {sorted(unknown)} that are not in ops={list(ops)}: "
            "pass the full op list or leave ops=None to read it from the pool"
        )
    parse_cell(benchmark.archs[0], ops, space=benchmark.space)  # strict check of the notation
    codes = np.array([[index[op] for op in p] for p in per_arch], dtype=np.int8)
    enc = CellEncoding(ops, codes, np.full(len(ops) ** len(EDGES), -1, dtype=np.int64))
    keys = enc.key(codes)
    if len(np.unique(keys)) != len(keys):
        raise RobotRayError(f"the {benchmark.space} pool lists the same cell twice; ids must be unique cells")
    enc.lookup[keys] = np.arange(len(codes))
    return enc


def cell_encoding(benchmark: TabularBenchmark, *, ops: Sequence[str] | None = None) -> CellEncoding:
    """The :class:`CellEncoding` of a cell-space pool (memoised per benchmark object).

    Args:
        ops: op names in code order; default: the ops found in the pool, NB201 order first.

    Raises:
        RobotRayError: the pool is not a 6-edge cell space, or uses ops outside ``ops``.
    """
    if ops is not None:
        return _build_cells(benchmark, ops)
    enc = _CELL_CACHE.get(benchmark)
    if enc is None:
        enc = _CELL_CACHE[benchmark] = _build_cells(benchmark, None)
    return enc


def is_cell_space(benchmark: TabularBenchmark) -> bool:
    try:
        cell_encoding(benchmark)
    except RobotRayError:
        return False
    return True


def _token_onehot(archs: Sequence[str]) -> np.ndarray:
    """Positional one-hot of string tokens, constant columns dropped (works for any string pool)."""
    tokens = [_TOKEN_RE.findall(a) for a in archs]
    width = max(len(t) for t in tokens)
    cols = []
    for pos in range(width):
        column = [t[pos] if pos < len(t) else "" for t in tokens]
        values, inverse = np.unique(np.array(column, dtype=object).astype(str), return_inverse=True)
        if len(values) > 1:
            cols.append(np.eye(len(values), dtype=np.float32)[inverse])
    if not cols:
        raise RobotRayError("all arch strings of the pool are identical: nothing to encode")
    return np.concatenate(cols, axis=1)


def features(benchmark: TabularBenchmark) -> np.ndarray:
    """float32 ``(N, F)`` features of every arch: op one-hot for cells, token one-hot otherwise."""
    feats = _FEATURE_CACHE.get(benchmark)
    if feats is None:
        feats = cell_encoding(benchmark).onehot() if is_cell_space(benchmark) else _token_onehot(benchmark.archs)
        _FEATURE_CACHE[benchmark] = feats
    return feats
