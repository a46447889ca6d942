"""Benchmark tables behind one interface (:class:`Benchmark`), found by space name."""

from __future__ import annotations

import importlib
import os

from robot_ray.benchmarks.base import Benchmark, Query, TabularBenchmark
from robot_ray.errors import RobotRayError

# space name -> module with ``load(data_dir, dataset, **options) -> Benchmark``
_LOADERS: dict[str, str] = {
    "nb201": "robot_ray.benchmarks.nb201",
    "tnb101_micro": "robot_ray.benchmarks.tnb101",
    "darts": "robot_ray.benchmarks.nb301",
}


def register(space: str, module: str) -> None:
    """Make ``get_benchmark(space, ...)`` call ``module.load``."""
    _LOADERS[space] = module


def get_benchmark(space: str, dataset: str, data_dir: str | os.PathLike | None = None, **options) -> Benchmark:
    """Load the benchmark table of ``space`` for ``dataset`` (a task, for TransNAS-Bench-101).

    ``data_dir`` defaults to ``$ROBOT_RAY_DATA``; options are the space loader's (NB201: ``objective``).
    """
    if space not in _LOADERS:
        raise RobotRayError(f"unknown search space {space!r}; choose one of {', '.join(sorted(_LOADERS))}")
    return importlib.import_module(_LOADERS[space]).load(data_dir, dataset, **options)


__all__ = ["Benchmark", "Query", "TabularBenchmark", "get_benchmark", "register"]
