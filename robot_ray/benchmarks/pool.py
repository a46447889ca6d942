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

from robot_ray.benchmarks.base import Benchmark, Query
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

    def __reduce__(self):
        if self._ref is None and self._codes is not None and self._codes.nbytes > SHARE_BYTES:
            ray = sys.modules.get("ray")
            if ray is not None and ray.is_initialized():
                self._ref = ray.put(self._codes)
        if self._ref is not None:
            return (_shared_pool, (self._ref, self._rows, self.dataset))
        return (DartsPool, (self._codes, self.dataset))


def _shared_pool(ref: Any, rows: int, dataset: str) -> DartsPool:
    return DartsPool(None, dataset, _ref=ref, _rows=rows)


class TrainedPool(Benchmark):
    """A pool whose ``query`` trains: ``objective(arch_id)`` (for RoBoT's plain loop, ``--no-ray``)."""

    tabular = False

    def __init__(self, pool: Benchmark, objective) -> None:
        self.pool = pool
        self.objective = objective
        self.space, self.dataset = pool.space, pool.dataset
        self.value_name, self.test_name = pool.value_name, pool.test_name

    @property
    def num_archs(self) -> int:
        return self.pool.num_archs

    def arch(self, arch_id: int) -> str:
        return self.pool.arch(arch_id)

    def arch_id(self, arch: str) -> int:
        return self.pool.arch_id(arch)

    def query(self, arch_id: int) -> Query:
        return self.objective(self.check_id(arch_id))
