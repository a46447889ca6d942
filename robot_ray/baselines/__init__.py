"""Baseline search methods, all with one signature and one budget rule.

``run(benchmark, budget, seed, *, metrics=None, **options) -> RunResult``; each spends exactly
``budget`` distinct queries through a :class:`~robot_ray.algorithm.ledger.QueryLedger` (repeats are
free), owns its random generator (the same seed gives the same trajectory) and never touches a
global RNG.

========================  ===================================================  ===============
name                      method                                               spaces
========================  ===================================================  ===============
``rs``                    random search                                        any table
``rea``                   regularised evolution (RoBoT's variant by default)   cell spaces
``reinforce``             REINFORCE on per-edge categorical policies           cell spaces
``weaknas``               WeakNAS, iterated weak predictor (Wu et al. 2021)    any table
``single_metric``         greedy by one training-free metric                   any table
``prenas``                PRE-NAS, predictor-assisted evolution (Peng 2022)    cell spaces
``swapnas``               SWAP-NAS, training-free evolution, 1 query (2024)    any table
========================  ===================================================  ===============

``swapnas`` is the one exception to the budget rule: it is training-free, queries nothing while
it searches and then exactly one architecture (its ledger holds one query for any T).
"""

from __future__ import annotations

from collections.abc import Callable

from robot_ray.errors import RobotRayError
from robot_ray.baselines import prenas, rea, reinforce, rs, single_metric, swapnas, weaknas
from robot_ray.baselines.single_metric import AllMetrics, run_all_metrics
from robot_ray.algorithm.ledger import RunResult

Method = Callable[..., RunResult]

METHODS: dict[str, Method] = {
    rs.NAME: rs.run,
    rea.NAME: rea.run,
    reinforce.NAME: reinforce.run,
    weaknas.NAME: weaknas.run,
    single_metric.NAME: single_metric.run,
    prenas.NAME: prenas.run,
    swapnas.NAME: swapnas.run,
}
"""Baseline name -> ``run`` callable."""

NEEDS_METRICS: frozenset[str] = frozenset({single_metric.NAME, swapnas.NAME})
"""Methods that fail without a metric matrix."""


def uses_metrics(name: str, options: dict | None = None) -> bool:
    """Whether a run of baseline ``name`` with ``options`` reads the metric matrix: the methods of
    :data:`NEEDS_METRICS`, and prenas with metric features (``features="onehot+metrics"``)."""
    key = canonical_name(name)
    if key in NEEDS_METRICS:
        return True
    return key == prenas.NAME and "metrics" in str((options or {}).get("features", ""))


def canonical_name(name: str) -> str:
    """``single-metric`` and ``Single_Metric`` both mean ``single_metric``."""
    return name.strip().lower().replace("-", "_")


def get_method(name: str) -> Method:
    """The ``run`` callable of a baseline by name.

    Raises:
        RobotRayError: unknown name (the message lists the known ones).
    """
    return lookup(METHODS, name)


def lookup(table: dict, name: str):
    """``table[canonical_name(name)]``, or a RobotRayError listing the known baselines."""
    key = canonical_name(name)
    if key not in table:
        raise RobotRayError(f"unknown baseline {name!r}; choose one of {', '.join(table)}")
    return table[key]


__all__ = [
    "METHODS", "NEEDS_METRICS", "AllMetrics", "Method", "canonical_name", "get_method", "lookup", "run_all_metrics",
    "uses_metrics",
]
