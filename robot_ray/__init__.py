"""robot-ray: RoBoT training-free NAS as a scalable Ray Tune searcher.

The public API (documented in the README, "Python API"); the CLI, ``jobs/`` and ``bench/`` are
thin shells over it::

    import robot_ray as rr
    from ray import tune

    bench = rr.get_benchmark("nb201", dataset="cifar10")            # $ROBOT_RAY_DATA or data_dir=
    metrics = rr.load_metrics("nb201", ["synflow", "snip", "nwot", "zen"], dataset="cifar10")
    searcher = rr.RoBoTSearcher(metrics, budget=20, seed=0, metric="accuracy", mode="max")

    def trainable(config):
        tune.report({"accuracy": bench.query(bench.arch_id(config["arch"])).value})

    tune.Tuner(trainable, tune_config=tune.TuneConfig(
        search_alg=searcher, metric="accuracy", mode="max", num_samples=-1,
        max_concurrent_trials=4)).fit()
    searcher.best()

Names resolve on first use (PEP 562), so ``import robot_ray`` does not import Ray, Ax or torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS: dict[str, tuple[str, str]] = {
    # data: benchmarks and metrics
    "get_benchmark": ("robot_ray.benchmarks", "get_benchmark"),
    "Benchmark": ("robot_ray.benchmarks.base", "Benchmark"),
    "Query": ("robot_ray.benchmarks.base", "Query"),
    "load_metrics": ("robot_ray.metric_sources", "load_metrics"),
    "MetricSource": ("robot_ray.metric_sources", "MetricSource"),
    "MetricMatrix": ("robot_ray.metrics.matrix", "MetricMatrix"),
    "precompute": ("robot_ray.precompute", "precompute"),
    "PrecomputeConfig": ("robot_ray.precompute", "PrecomputeConfig"),
    "build_network": ("robot_ray.networks", "build_network"),
    # live training and PRE-NAS's weight inheritance
    "LiveObjective": ("robot_ray.train.objective", "LiveObjective"),
    "inherit_weights": ("robot_ray.train.inherit", "inherit_weights"),
    "WeightStore": ("robot_ray.train.weights", "WeightStore"),
    # Tune searchers
    "RoBoTSearcher": ("robot_ray.tune.robot_searcher", "RoBoTSearcher"),
    "SeedFanoutSearcher": ("robot_ray.tune.fanout", "SeedFanoutSearcher"),
    "BaselineSearcher": ("robot_ray.tune.baseline_searcher", "BaselineSearcher"),
    "RSSearcher": ("robot_ray.tune.baseline_searcher", "RSSearcher"),
    "REASearcher": ("robot_ray.tune.baseline_searcher", "REASearcher"),
    "REINFORCESearcher": ("robot_ray.tune.baseline_searcher", "REINFORCESearcher"),
    "WeakNASSearcher": ("robot_ray.tune.baseline_searcher", "WeakNASSearcher"),
    "SingleMetricSearcher": ("robot_ray.tune.baseline_searcher", "SingleMetricSearcher"),
    "PRENASSearcher": ("robot_ray.tune.baseline_searcher", "PRENASSearcher"),
    "SWAPNASSearcher": ("robot_ray.tune.baseline_searcher", "SWAPNASSearcher"),
    # runs
    "run_search": ("robot_ray.runs.search", "run_search"),
    "SearchConfig": ("robot_ray.runs.search", "SearchConfig"),
    "run_robot": ("robot_ray.runs.robot", "run_robot"),
    "RobotSettings": ("robot_ray.runs.robot", "RobotSettings"),
    "compare": ("robot_ray.runs.compare", "run_comparison"),
    "make_report": ("robot_ray.report", "make_report"),
    # errors
    "RobotRayError": ("robot_ray.errors", "RobotRayError"),
    "RunInterrupted": ("robot_ray.errors", "RunInterrupted"),
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'robot_ray' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
