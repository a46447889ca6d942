"""The Tune trainables robot-ray's own runs use: evaluate the architecture a searcher suggested.

Each reads ``config["arch_id"]`` and reports ``value`` (what the searcher optimises),
``test_value`` and ``cost``. A benchmark table answers at once; a live objective trains the
architecture in the trial, on the trial's resources. The benchmark or objective reaches the
trial through ``tune.with_parameters`` (the object store, once), never through the config.
A user's own trainable needs nothing from here: any function reporting the searcher's metric
for ``config["arch"]`` works.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ray import tune

from robot_ray.benchmarks.base import Benchmark, Query

VALUE = "value"


def report_query(answer: Query) -> None:
    tune.report({VALUE: answer.value, "test_value": answer.test_value, "cost": answer.cost})


def table_trial(config: dict[str, Any], *, benchmark: Benchmark) -> None:
    """A benchmark-table query (NB201, TNB101, NB301-725)."""
    report_query(benchmark.query(int(config["arch_id"])))


def live_trial(config: dict[str, Any], *, objective: Callable[[int], Query]) -> None:
    """Train the architecture here (``objective(arch_id) -> Query``, e.g. :class:`robot_ray.train.LiveObjective`)."""
    report_query(objective(int(config["arch_id"])))
