"""One training-free metric as a search method (the training-free rows of RoBoT's Table 2).

The pool is ranked by one column of the normalised :class:`MetricMatrix` (1 = best; values that
were NaN/inf are already the worst, 0) and queried greedily in that order until T distinct
archs are spent; the reported arch is the best *queried* one, as for every method. Ties keep
row order, as in :mod:`robot_ray.algorithm.scoring`. The run does not depend on the seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Sequence

import numpy as np

from robot_ray.benchmarks.base import TabularBenchmark
from robot_ray.errors import RobotRayError
from robot_ray.metrics.matrix import MetricMatrix
from robot_ray.baselines._common import new_ledger, reject_options
from robot_ray.algorithm.ledger import RunResult

NAME = "single_metric"


def _column(metrics: MetricMatrix | None, metric: str | None) -> int:
    if metrics is None:
        raise RobotRayError("single_metric needs a metric matrix: pass metrics=MetricMatrix (--metrics on the CLI)")
    if metric is None:
        if len(metrics.names) != 1:
            raise RobotRayError(
                f"single_metric needs metric=NAME when the matrix has {len(metrics.names)} metrics: "
                f"choose one of {', '.join(metrics.names)}"
            )
        return 0
    if metric not in metrics.names:
        raise RobotRayError(f"metric {metric!r} is not in the matrix; it has {', '.join(metrics.names)}")
    return metrics.names.index(metric)


def run(
    benchmark: TabularBenchmark,
    budget: int,
    seed: int,
    *,
    metrics: MetricMatrix | None = None,
    metric: str | None = None,
    **options,
) -> RunResult:
    """Query the ``budget`` archs ranked highest by ``metric``.

    Raises:
        RobotRayError: no matrix, unknown metric, ids outside the pool, fewer rows than the budget.
    """
    reject_options(NAME, options, ("metric",))
    j = _column(metrics, metric)
    ledger = new_ledger(benchmark, budget, NAME)
    ids = metrics.arch_ids
    if len(ids) < ledger.budget:
        raise RobotRayError(f"the metric matrix ranks {len(ids)} archs, fewer than the budget {ledger.budget}")
    if len(ids) and (ids.min() < 0 or ids.max() >= benchmark.num_archs):
        raise RobotRayError(
            f"metric matrix ids span {ids.min()}..{ids.max()}, outside the {benchmark.space} pool "
            f"0..{benchmark.num_archs - 1}: the table belongs to another space"
        )
    order = np.argsort(-metrics.values[:, j], kind="stable")
    for row in order:
        if ledger.exhausted:
            break
        ledger.query(int(ids[row]), stage=NAME)
    return RunResult(seed=seed, ledger=ledger, extra={"metric": metrics.names[j]})


@dataclass(frozen=True)
class AllMetrics:
    """Single-metric runs for every metric of a matrix.

    Attributes:
        runs: metric name -> one RunResult per seed.
        mean_test: metric name -> mean best test value over seeds.
        average: mean of ``mean_test`` over metrics (the "average training-free metric" row).
        best_metric: the metric with the highest ``mean_test`` (an oracle choice: it uses test values).
    """

    runs: dict[str, list[RunResult]]
    mean_test: dict[str, float]
    average: float
    best_metric: str

    @property
    def best(self) -> float:
        return self.mean_test[self.best_metric]


def run_all_metrics(
    benchmark: TabularBenchmark, budget: int, seeds: Sequence[int], *, metrics: MetricMatrix
) -> AllMetrics:
    """Run :func:`run` for every metric of ``metrics`` and summarise average and best over metrics."""
    if metrics is None or not metrics.names:
        raise RobotRayError("run_all_metrics needs a metric matrix with at least one metric")
    runs = {m: [run(benchmark, budget, s, metrics=metrics, metric=m) for s in seeds] for m in metrics.names}
    mean_test = {m: float(np.mean([r.ledger.best().test_value for r in rs])) for m, rs in runs.items()}
    best_metric = max(mean_test, key=lambda m: mean_test[m])
    return AllMetrics(runs, mean_test, float(np.mean(list(mean_test.values()))), best_metric)
