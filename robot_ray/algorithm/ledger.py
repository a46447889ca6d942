"""Budget accounting shared by RoBoT and every baseline: T counts *distinct* queried archs.

A repeated architecture returns its cached answer and spends nothing; the best architecture
is the one with the highest queried value (the first found wins a tie), reported with its test
value. Every method writes its queries through a :class:`QueryLedger`, so the comparison is
apples to apples.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from robot_ray.benchmarks.base import Benchmark, Query
from robot_ray.errors import RobotRayError


def _better(value: float, best: float) -> bool:
    """Strictly better; a failed (NaN) evaluation is worse than any number."""
    if math.isnan(value):
        return False
    return math.isnan(best) or value > best


@dataclass(frozen=True)
class QueryRecord:
    """One distinct query, in the order it was spent."""

    query: int  # 1-based position in the budget
    stage: str  # "explore" / "exploit" for RoBoT, the method name for baselines
    arch_id: int
    arch: str
    value: float
    test_value: float
    cost: float
    best_value: float  # running best value after this query
    best_test_value: float  # test value of the running best arch
    weights: tuple[float, ...] | None = None


@dataclass
class QueryLedger:
    """Distinct queries of one search run, capped at ``budget``."""

    benchmark: Benchmark
    budget: int
    records: list[QueryRecord] = field(default_factory=list)
    _seen: dict[int, Query] = field(default_factory=dict)
    _best_index: int = 0

    def __post_init__(self) -> None:
        if self.budget < 1:
            raise RobotRayError(f"budget must be at least 1, got {self.budget}")
        if self.budget > self.benchmark.num_archs:
            raise RobotRayError(
                f"budget {self.budget} is larger than the pool of {self.benchmark.num_archs} architectures: "
                f"lower --budget to at most {self.benchmark.num_archs}"
            )

    @property
    def spent(self) -> int:
        return len(self.records)

    @property
    def exhausted(self) -> bool:
        return self.spent >= self.budget

    def seen(self, arch_id: int) -> bool:
        return int(arch_id) in self._seen

    def cached(self, arch_id: int) -> Query | None:
        return self._seen.get(int(arch_id))

    def record(self, arch_id: int, answer: Query, *, stage: str, weights=None) -> bool:
        """Add an answer obtained elsewhere (e.g. by a Tune trial); returns whether it was new.

        Raises:
            RuntimeError: a new arch arrives after the budget is spent (a caller bug: callers
                must stop proposing once ``exhausted``).
        """
        arch_id = int(arch_id)
        if arch_id in self._seen:
            return False
        if self.exhausted:
            raise RuntimeError(f"query budget of {self.budget} distinct architectures already spent")
        self._seen[arch_id] = answer
        prev = self.records[-1] if self.records else None
        if prev is None or _better(answer.value, prev.best_value):
            best_value, best_test = answer.value, answer.test_value
            self._best_index = len(self.records)
        else:
            best_value, best_test = prev.best_value, prev.best_test_value
        self.records.append(
            QueryRecord(
                query=self.spent + 1,
                stage=stage,
                arch_id=arch_id,
                arch=self.benchmark.arch(arch_id),
                value=answer.value,
                test_value=answer.test_value,
                cost=answer.cost,
                best_value=best_value,
                best_test_value=best_test,
                weights=None if weights is None else tuple(float(w) for w in weights),
            )
        )
        return True

    def query(self, arch_id: int, *, stage: str, weights=None, context=None) -> tuple[Query, bool]:
        """Evaluate ``arch_id`` unless already seen; returns (answer, was_new).

        ``context`` (e.g. the parent a child descends from) goes to
        :meth:`~robot_ray.benchmarks.base.Benchmark.query_in_context`.
        """
        cached = self.cached(arch_id)
        if cached is not None:
            return cached, False
        answer = self.benchmark.query_in_context(arch_id, context) if context else self.benchmark.query(arch_id)
        return answer, self.record(arch_id, answer, stage=stage, weights=weights)

    def best(self) -> QueryRecord:
        """The first record with the highest value (NaN values never win over a number)."""
        if not self.records:
            raise RuntimeError("no query was made")
        return self.records[self._best_index]

    def total_cost(self) -> float:
        return float(np.sum([r.cost for r in self.records]))

    def rows(self) -> list[dict]:
        return [asdict(r) for r in self.records]


@dataclass
class RunResult:
    """One seed of one method."""

    seed: int
    ledger: QueryLedger
    t0: int | None = None  # distinct archs found by RoBoT's BO stage
    best_weights: dict[str, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        best = self.ledger.best()
        return {
            "seed": self.seed,
            "best_arch_id": best.arch_id,
            "best_arch": best.arch,
            "best_value": best.value,
            "best_test_value": best.test_value,
            "t0": self.t0,
            "queries": self.ledger.spent,
            "cost": self.ledger.total_cost(),
            "best_weights": self.best_weights,
            **self.extra,
        }
