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
