"""The embedded default search: the whole pipeline live, on data that ships with pip packages.

``robot-ray search`` without a data directory runs this: sample a pool of NAS-Bench-201 cells,
precompute their training-free metrics on the 8x8 digits set bundled with scikit-learn (the Ray
actor pool of ``robot-ray precompute``), run RoBoT's BO stage as Tune trials that *train* the
architectures they propose, exploit greedily, and report the architecture found with a plot.
No benchmark table, no download: ids are NB201 product indices (no official index without
the table).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


DEMO_METRICS = ("synflow", "nwot", "snip", "grad_norm")


@dataclass(frozen=True)
class DemoConfig:
    """Sizes chosen to finish in minutes on 2 CPU cores.

    ``batch_size`` is the metric batch; training uses ``train_batch_size`` (digits has 750
    training images after the validation split: batch 32 gives 23 steps an epoch).
    """

    out: str = "out/demo"
    pool: int = 100
    metrics: tuple[str, ...] = DEMO_METRICS
    budget: int = 10
    seed: int = 0
    epochs: int = 4
    train_batch_size: int = 32
    lr: float = 0.05
    channels: int = 8
    cells: int = 1
    batch_size: int = 64
    trial_cpus: float = 1.0
    bo_concurrency: int | str = "auto"
    """BO trainings at once; "auto": as many as Ray's CPUs hold trials (the GP conditions each new
    proposal on the running ones, so they spread out); 1: the paper's sequential BO."""
    progress: bool = True


def run_demo(config: DemoConfig) -> dict[str, Any]:
    """Run the embedded live search; returns the summary (also written to ``config.out``)."""
    from robot_ray.metric_sources import MetricSource
    from robot_ray.precompute import PrecomputeConfig, run_precompute
    from robot_ray.report import make_report
    from robot_ray.runs.results import write_results
    from robot_ray.runs.robot import RobotSettings, TuneSettings, run_robot
    from robot_ray.train import LiveObjective

    started = time.time()
    out = Path(config.out)
    cache = out / "metric_cache"
    report = run_precompute(
        PrecomputeConfig(
            space="nb201", dataset="digits", metrics=tuple(config.metrics),
            archs=f"sample:{config.pool}:{config.seed}", out=str(cache), batch_size=config.batch_size,
            seed=config.seed, channels=config.channels, cells=config.cells, shard_size=25,
            progress=config.progress,
        )
    )
    matrix = MetricSource("nb201", tuple(config.metrics), "digits", str(cache)).load()
    bench = matrix.archs  # a ProductPool: the cache is keyed by NB201 product index
    objective = LiveObjective(
        "nb201", [bench.arch(i) for i in range(bench.num_archs)], "digits", seed=config.seed,
        epochs=config.epochs, batch_size=config.train_batch_size, lr=config.lr,
        size={"channels": config.channels, "cells": config.cells},
    )
    runs = run_robot(
        bench, matrix, [config.seed], RobotSettings(budget=config.budget, bo_concurrency=config.bo_concurrency),
        objective=objective,
        out_dir=out,
        tune_settings=TuneSettings(trial_resources={"cpu": config.trial_cpus}), progress=config.progress,
    )
    summary = write_results(
        out, runs, method="robot", space=bench.space, dataset=bench.dataset, objective=bench.value_name,
        test_name=bench.test_name, budget=config.budget, metrics=list(matrix.names),
        metric_notes=list(matrix.notes), precompute_seconds=report.seconds, wall_time_s=time.time() - started,
        embedded_demo=True,
    )
    figures = make_report([out], out / "report", title="Embedded demo: RoBoT on NB201 cells, digits, live training")
    summary["report_files"] = [str(p) for p in figures]
    summary["wall_time_s"] = time.time() - started
    return summary

