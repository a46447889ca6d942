"""A sampled DARTS pool as a benchmark with no table: it names genotypes, a live objective answers.

``robot-ray search --space darts --cache CACHE --objective live`` searches the pool a
``robot-ray precompute --space darts --archs sample:N:seed`` wrote into ``CACHE/_pool.parquet``:
ids are pool rows (the cache's ``arch_id``), archs are canonical genotype strings decoded from the
compact codes on demand, and every query is answered by training
(:class:`robot_ray.train.LiveObjective`), so :meth:`DartsPool.query` refuses.

The pool is held as its ``(N, 32)`` int8 codes (32 bytes a genotype, 320 MB at 10^7), never as
strings. Pickling (the ledger actor, the live objective in every Tune trial and greedy task)
ships the codes once: while Ray is up, a pool above :data:`SHARE_BYTES` goes to the object store
with the first pickle and every later pickle carries only that reference.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

from robot_ray.benchmarks.base import Benchmark, PoolView, Query
from robot_ray.errors import RobotRayError
from robot_ray.spaces import darts

VALUE_NAME = "val_acc_live"
TEST_NAME = "test_acc_live"
SHARE_BYTES = 1 << 20
"""Pools larger than this are shared through the Ray object store when pickled (when Ray is up)."""


class DartsPool(Benchmark):
    """The genotypes of a sampled DARTS pool, ids = rows; answered only by a live objective.

    Args:
        codes: ``(N, 32)`` int8 canonical compact codes (:func:`robot_ray.spaces.darts.sample_codes`).
        dataset: what the live objective trains on (for results and reports).
    """

    space = darts.NAME
    value_name = VALUE_NAME
    test_name = TEST_NAME
    tabular = False

    def __init__(self, codes: np.ndarray | None, dataset: str = "cifar10", *,
                 _ref: Any = None, _rows: int | None = None) -> None:
        self.dataset = dataset
        if codes is not None:
            codes = np.ascontiguousarray(codes, dtype=np.int8).reshape(-1, darts.CODE_LENGTH)
        self._codes = codes
        self._ref = _ref
        self._rows = len(self._codes) if self._codes is not None else int(_rows)

    @classmethod
    def from_cache(cls, path: str | os.PathLike, dataset: str = "cifar10") -> DartsPool:
        """The pool of a DARTS metric cache (``_pool.parquet``).

        Raises:
            RobotRayError: the directory holds no DARTS pool.
        """
        from robot_ray.cache.archs import load_pool

        codes = load_pool(path)
        if not len(codes):
            raise RobotRayError(
                f"{str(path)!r} holds no DARTS pool (_pool.parquet): precompute one with "
                "`robot-ray precompute --space darts --archs sample:N:SEED --out DIR ...`"
            )
        return cls(codes, dataset)

    @property
    def codes(self) -> np.ndarray:
        """The ``(N, 32)`` int8 codes (fetched from the object store on first use after unpickling)."""
        if self._codes is None:
            import ray

            self._codes = ray.get(self._ref)
        return self._codes

    @property
    def num_archs(self) -> int:
        return self._rows

    def arch(self, arch_id: int) -> str:
        return darts.format_genotype(darts.decode(self.codes[self.check_id(arch_id)]))

    def arch_id(self, arch: str) -> int:
        code = darts.encode(arch)
        step = 1 << 18
        codes = self.codes
        for start in range(0, len(codes), step):
            hit = np.flatnonzero((codes[start:start + step] == code).all(axis=1))
            if len(hit):
                return start + int(hit[0])
        raise RobotRayError(f"genotype {darts.canonical(arch)!r} is not in this pool of {self.num_archs} genotypes")

    def query(self, arch_id: int) -> Query:
        raise RobotRayError(
            "a sampled DARTS pool has no table: its genotypes are evaluated by training them "
            "(robot-ray search --objective live)"
        )

    def rank_index(self) -> tuple[np.ndarray, np.ndarray]:
        """``(keys, order)``: the pool's genotype ranks sorted (a structured array for
        ``np.searchsorted``) and the row of each; built once per pool object, shared by every
        seed's :class:`GrowingPool` (48 bytes a row)."""
        index = self.__dict__.get("_rank_index")
        if index is None:
            index = rank_index(self.codes)
            self._rank_index = index
        return index

    def __reduce__(self):
        if self._ref is None and self._codes is not None and self._codes.nbytes > SHARE_BYTES:
            ray = sys.modules.get("ray")
            if ray is not None and ray.is_initialized():
                self._ref = ray.put(self._codes)
        if self._ref is not None:
            return (_shared_pool, (self._ref, self._rows, self.dataset))
        return (DartsPool, (self._codes, self.dataset))


def rank_index(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted genotype ranks of ``(N, 32)`` codes and the row of each (see :meth:`DartsPool.rank_index`)."""
    ranks = darts.code_ranks(np.asarray(codes))
    order = np.lexsort((ranks[:, 1], ranks[:, 0]))
    return _rank_keys(ranks[order]), order


def _rank_keys(ranks: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(ranks, dtype=np.int64).view([("a", np.int64), ("b", np.int64)]).ravel()


def _shared_pool(ref: Any, rows: int, dataset: str) -> DartsPool:
    return DartsPool(None, dataset, _ref=ref, _rows=rows)


class TrainedPool(PoolView):
    """A pool whose ``query`` trains (the plain loop, ``--no-ray``, and the baselines off Ray).

    Baselines read the pool's columns (arch strings, DARTS codes) through it, never its answers
    (:class:`~robot_ray.benchmarks.base.PoolView`). A query told its ``arch`` (a child the search
    generated) or its ``parent_arch`` goes to ``objective.query_arch``
    (:meth:`robot_ray.train.LiveObjective.query_arch`, which inherits the parent's weights).
    """

    def __init__(self, pool: Benchmark, objective) -> None:
        super().__init__(pool)
        self.objective = objective
        self.space, self.dataset = pool.space, pool.dataset
        self.value_name, self.test_name = pool.value_name, pool.test_name

    @property
    def pool(self) -> Benchmark:
        return self._inner

    def query(self, arch_id: int) -> Query:
        return self.query_in_context(arch_id, {})

    def query_in_context(self, arch_id: int, context) -> Query:
        query_arch = getattr(self.objective, "query_arch", None)
        if query_arch is None:
            if context.get("arch") is not None or context.get("parent_arch") is not None:
                raise RobotRayError(
                    f"{type(self.objective).__name__} answers pool ids only; a search that generates "
                    "architectures or passes parents (PRE-NAS with inherit=True) needs an objective with "
                    "query_arch(arch, parent_arch=, lineage=), e.g. robot_ray.train.LiveObjective"
                )
            return self.objective(self.check_id(arch_id))
        arch = context.get("arch")
        if arch is None:
            arch = self._inner.arch(self.check_id(arch_id))
        return query_arch(arch, parent_arch=context.get("parent_arch"), lineage=context.get("lineage"))


class GrowingPool(Benchmark):
    """A DARTS pool that takes in the genotypes a search generates (PRE-NAS's op-only children).

    Ids ``0 .. N-1`` are the wrapped pool's; a genotype :meth:`add` meets for the first time gets
    the next id (one already in the pool keeps its id), so a search's ids depend only on what it
    generated, in order: a replay of the same run grows the same ids. A query of a grown id is
    passed on with its ``arch`` string in the context (the wrapped pool cannot name it).
    One growing pool belongs to one run; it is never shared between seeds.
    """

    tabular = True

    def __init__(self, base: Benchmark) -> None:
        self.base = base
        self.space, self.dataset = base.space, base.dataset
        self.value_name, self.test_name = base.value_name, base.test_name
        self._rows = int(base.num_archs)
        self._grown: list[np.ndarray] = []
        self._grown_index: dict[tuple[int, int], int] = {}

    @property
    def num_archs(self) -> int:
        return self._rows + len(self._grown)

    @property
    def grown(self) -> int:
        """Genotypes added beyond the wrapped pool."""
        return len(self._grown)

    def codes_of(self, ids) -> np.ndarray:
        """``(k, 32)`` int8 codes of pool or grown ids."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        out = np.empty((len(ids), darts.CODE_LENGTH), dtype=np.int8)
        inner = ids < self._rows
        if inner.any():
            out[inner] = np.asarray(self.base.codes)[ids[inner]]
        for row in np.flatnonzero(~inner):
            out[row] = self._grown[int(ids[row]) - self._rows]
        return out

    def arch(self, arch_id: int) -> str:
        arch_id = self.check_id(arch_id)
        if arch_id < self._rows:
            return self.base.arch(arch_id)
        return darts.format_genotype(darts.decode(self._grown[arch_id - self._rows]))

    def arch_id(self, arch: str) -> int:
        return int(self.add(darts.encode(arch)[None], grow=False)[0])

    def add(self, codes: np.ndarray, *, grow: bool = True) -> np.ndarray:
        """Ids of ``(k, 32)`` codes, growing the pool by those it holds nowhere (in order).

        Raises:
            RobotRayError: with ``grow=False``, a genotype the pool does not hold.
        """
        codes = darts.canonicalize_codes(np.asarray(codes, dtype=np.int8).reshape(-1, darts.CODE_LENGTH))
        ranks = darts.code_ranks(codes)
        found = self._in_base(ranks)
        out = np.empty(len(codes), dtype=np.int64)
        for i, (code, rank) in enumerate(zip(codes, ranks.tolist())):
            if found[i] >= 0:
                out[i] = found[i]
                continue
            key = (int(rank[0]), int(rank[1]))
            hit = self._grown_index.get(key)
            if hit is None:
                if not grow:
                    raise RobotRayError(f"genotype {darts.format_genotype(darts.decode(code))!r} is not in this pool")
                hit = self._rows + len(self._grown)
                self._grown.append(code.copy())
                self._grown_index[key] = hit
            out[i] = hit
        return out

    def _in_base(self, ranks: np.ndarray) -> np.ndarray:
        """Base-pool id of each ``(k, 2)`` rank row, -1 where absent.

        The sorted index is the base pool's own (:meth:`DartsPool.rank_index`, built once and
        shared by every seed); a pool without one gets it built here.
        """
        getter = getattr(self.base, "rank_index", None)
        base_keys, order = getter() if getter is not None else rank_index(self.base.codes)
        keys = _rank_keys(ranks)
        pos = np.searchsorted(base_keys, keys)
        inside = pos < len(base_keys)
        hit = np.full(len(keys), -1, dtype=np.int64)
        match = inside.copy()
        match[inside] = base_keys[pos[inside]] == keys[inside]
        hit[match] = order[pos[match]]
        return hit

    def query(self, arch_id: int) -> Query:
        return self.query_in_context(arch_id, {})

    def query_in_context(self, arch_id: int, context) -> Query:
        arch_id = self.check_id(arch_id)
        context = dict(context)
        if arch_id >= self._rows:
            context["arch"] = self.arch(arch_id)
        if not context:
            return self.base.query(arch_id)
        return self.base.query_in_context(arch_id, context)
