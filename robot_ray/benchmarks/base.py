"""One lookup interface for every benchmark table: value to maximise, test value, query cost.

Searchers only ever see :class:`Benchmark`; a table-backed benchmark also exposes its columns
as arrays so that baselines and reports can be vectorised. A live (training) objective
implements the same ``query`` with ``tabular = False``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from robot_ray.errors import RobotRayError


CONTEXT_KEYS = ("arch", "parent_arch", "lineage")
"""What a query may be told besides its id (:meth:`Benchmark.query_in_context`)."""


@dataclass(frozen=True)
class Query:
    """What one evaluation of an architecture returns.

    Attributes:
        value: the objective being maximised (e.g. 12-epoch validation accuracy, %).
        test_value: the reported target (e.g. 200-epoch test accuracy, %); NaN when unknown.
        cost: the seconds this query would have cost to obtain by training.
        inherited: for a child trained from its parent's weights (PRE-NAS's weight inheritance),
            the share of its parameters that came from the parent: 0.0 when the parent's weights
            were not found and it trained from scratch; None when no parent was asked for.
    """

    value: float
    test_value: float
    cost: float
    inherited: float | None = None


class Benchmark(ABC):
    """An objective over the architectures ``0 .. num_archs - 1`` of one search space."""

    space: str
    dataset: str
    value_name: str
    test_name: str
    tabular: bool = False

    @property
    @abstractmethod
    def num_archs(self) -> int: ...

    @abstractmethod
    def arch(self, arch_id: int) -> str:
        """Canonical arch string of an id."""

    @abstractmethod
    def arch_id(self, arch: str) -> int:
        """Id of an arch string (parsed, never evaluated)."""

    @abstractmethod
    def query(self, arch_id: int) -> Query:
        """Evaluate one architecture."""

    def query_in_context(self, arch_id: int, context: Mapping[str, Any]) -> Query:
        """Evaluate one architecture told more than its id (:data:`CONTEXT_KEYS`).

        A searcher whose query has a history passes it here: ``arch`` names an id this pool
        does not hold yet (a child generated during the search), ``parent_arch`` the trained
        architecture it descends from and ``lineage`` the run it belongs to, so a live objective
        can start the child from its parent's weights. A table ignores all of it.
        """
        return self.query(arch_id)

    def check_id(self, arch_id: int) -> int:
        arch_id = int(arch_id)
        if not 0 <= arch_id < self.num_archs:
            raise RobotRayError(
                f"arch id {arch_id} outside the {self.space} pool 0..{self.num_archs - 1}"
            )
        return arch_id

    def describe(self) -> str:
        return f"{self.space}/{self.dataset} ({self.num_archs} archs, maximise {self.value_name}, report {self.test_name})"


class PoolView(Benchmark):
    """A pool's columns without its answers, for a searcher whose answers come from elsewhere.

    Baselines read whole columns of their pool (arch strings, DARTS codes): every attribute is
    forwarded to the wrapped pool except the answer columns (:data:`HIDDEN`), so a searcher can
    only learn a value through :meth:`query`. A subclass says where answers come from (a Tune
    trial, a training objective).
    """

    tabular = True
    HIDDEN = ("values", "test_values", "costs", "value_rank", "test_rank")

    def __init__(self, pool: Benchmark) -> None:
        self._inner = pool

    def __getattr__(self, name: str):
        if name in PoolView.HIDDEN:
            raise AttributeError(f"{name!r}: {type(self).__name__} learns values only through query()")
        if name.startswith("__") or name == "_inner":
            raise AttributeError(name)
        return getattr(self._inner, name)

    @property
    def num_archs(self) -> int:
        return self._inner.num_archs

    def arch(self, arch_id: int) -> str:
        return self._inner.arch(arch_id)

    def arch_id(self, arch: str) -> int:
        return self._inner.arch_id(arch)


class TabularBenchmark(Benchmark):
    """A benchmark whose every answer is a row of a table held in memory.

    Args:
        space, dataset: names used in results.
        archs: canonical arch string per id, shape ``(N,)``.
        values, test_values, costs: float arrays of shape ``(N,)``.
        value_name, test_name: column names, for reports.
    """

    tabular = True

    def __init__(
        self,
        *,
        space: str,
        dataset: str,
        archs: list[str] | tuple[str, ...],
        values: np.ndarray,
        test_values: np.ndarray,
        costs: np.ndarray,
        value_name: str,
        test_name: str,
        canonicalize=None,
    ) -> None:
        n = len(archs)
        for name, arr in (("values", values), ("test_values", test_values), ("costs", costs)):
            if np.shape(arr) != (n,):
                raise ValueError(f"{name} must have shape ({n},), got {np.shape(arr)}")
        self.space = space
        self.dataset = dataset
        self.value_name = value_name
        self.test_name = test_name
        self.archs = tuple(archs)
        self.values = np.asarray(values, dtype=np.float64)
        self.test_values = np.asarray(test_values, dtype=np.float64)
        self.costs = np.asarray(costs, dtype=np.float64)
        self._index = {a: i for i, a in enumerate(self.archs)}
        self._canonicalize = canonicalize or (lambda a: a)

    @property
    def num_archs(self) -> int:
        return len(self.archs)

    def arch(self, arch_id: int) -> str:
        return self.archs[self.check_id(arch_id)]

    def arch_id(self, arch: str) -> int:
        key = self._canonicalize(arch)
        try:
            return self._index[key]
        except KeyError:
            raise RobotRayError(f"arch {arch!r} is not in the {self.space} pool") from None

    def query(self, arch_id: int) -> Query:
        i = self.check_id(arch_id)
        return Query(float(self.values[i]), float(self.test_values[i]), float(self.costs[i]))

    def value_rank(self, arch_id: int) -> int:
        """1-based rank by value among all archs (ties share the best rank: 1 + number strictly better)."""
        return int(np.sum(self.values > self.values[self.check_id(arch_id)])) + 1

    def test_rank(self, arch_id: int) -> int:
        """1-based rank by test value (ties share the best rank)."""
        return int(np.sum(self.test_values > self.test_values[self.check_id(arch_id)])) + 1
