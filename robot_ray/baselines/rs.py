"""Random search: distinct architectures drawn uniformly from the pool (RoBoT's ``RS``)."""

from __future__ import annotations

import numpy as np

from robot_ray.benchmarks.base import TabularBenchmark
from robot_ray.metrics.matrix import MetricMatrix
from robot_ray.baselines._common import new_ledger, reject_options
from robot_ray.algorithm.ledger import RunResult

NAME = "rs"


def run(benchmark: TabularBenchmark, budget: int, seed: int, *, metrics: MetricMatrix | None = None, **options) -> RunResult:
    """Query ``budget`` distinct archs in a uniformly random order.

    RoBoT's code redraws with ``np.random.randint`` until an unseen arch comes up; a permutation
    prefix is the same distribution in one vectorised draw. ``metrics`` is ignored.
    """
    reject_options(NAME, options)
    ledger = new_ledger(benchmark, budget, NAME)
    rng = np.random.default_rng(seed)
    for arch_id in rng.choice(benchmark.num_archs, size=ledger.budget, replace=False):
        ledger.query(int(arch_id), stage=NAME)
    return RunResult(seed=seed, ledger=ledger)
