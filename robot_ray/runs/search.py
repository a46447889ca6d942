"""What ``robot-ray search`` does, as a library call: config in, result files and summary out.

The CLI and the job scripts only build a :class:`SearchConfig`; this module loads the
benchmark and the metric matrix, runs the method (RoBoT on Ray, RoBoT in a plain loop, or a
baseline), and writes ``trajectory.parquet`` and ``summary.json``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from robot_ray import __version__
from robot_ray.benchmarks import get_benchmark
from robot_ray.benchmarks.base import Benchmark
from robot_ray.errors import RobotRayError
from robot_ray.metrics.matrix import MetricMatrix, read_metric_table
from robot_ray.algorithm.ledger import RunResult
from robot_ray.io.atomic import atomic_write_json
from robot_ray.runs.results import write_results

PAPER_METRICS = ("grad_norm", "snip", "grasp", "fisher", "synflow", "jacob_cov")
REFERENCE_METRICS = ("synflow", "snip", "nwot", "zen")
BASELINES = ("rs", "rea", "reinforce", "weaknas", "single-metric")
METHODS = ("robot",) + BASELINES
LIVE = "live"
OBJECTIVES = ("robot", "dataset", LIVE)
LIVE_SPACES = ("darts",)


@dataclass(frozen=True)
class SearchConfig:
    """One search: a method over one benchmark dataset/task, for several seeds."""

    space: str = "nb201"
    dataset: str = "cifar10"
    metrics: tuple[str, ...] = REFERENCE_METRICS
    budget: int = 20
    seeds: tuple[int, ...] = tuple(range(10, 20))
    method: str = "robot"
    data_dir: str | None = None
    cache: str | None = None
    out: str = "out"
    objective: str = "robot"  # nb201: "robot" (paper, CIFAR-10 12-epoch val) or "dataset"; "live": train
    bo_rounds: int | None = None
    init_trials: int = 1
    acquisition: str = "ucb"
    repeats: str = "novel"  # "novel" (replace repeated proposals) or "keep" (the paper's rule)
    initial: str = "corners"  # "corners" (each metric alone first) or "sobol" (the paper)
    use_ray: bool = True
    per_seed_concurrency: int = 1
    trial_resources: dict = field(default_factory=lambda: {"cpu": 0.25})
    resume: bool = False
    progress: bool = True
    method_options: dict = field(default_factory=dict)
    # objective "live": TrainSettings overrides (epochs, batch_size, lr, size, train_subset, val_fraction, ...),
    # the official CIFAR folder to train on (else the data directory's npz subset or digits), the training seed
    train: dict = field(default_factory=dict)
    cifar_root: str | None = None
    train_seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise RobotRayError(f"unknown method {self.method!r}; choose one of {', '.join(METHODS)}")
        if self.objective not in OBJECTIVES:
            raise RobotRayError(f"unknown objective {self.objective!r}; choose one of {', '.join(OBJECTIVES)}")
        if self.objective == LIVE:
            if self.space not in LIVE_SPACES:
                raise RobotRayError(
                    f"--objective live trains genotypes of a precomputed DARTS pool (--space darts --cache CACHE), "
                    f"got --space {self.space}; NB201 live training runs in the embedded search "
                    "(`robot-ray search` without a data directory) or through robot_ray.train.LiveObjective"
                )
            if self.method != "robot":
                raise RobotRayError(
                    f"--objective live works with --method robot; {self.method} needs a benchmark table"
                )
            if not self.cache:
                raise RobotRayError(
                    "--objective live needs --cache: a DARTS pool precomputed with "
                    "`robot-ray precompute --space darts --archs sample:N:SEED --out CACHE ...`"
                )
        elif self.train or self.cifar_root or self.train_seed:
            raise RobotRayError(
                "training settings (--epochs, --train-batch-size, --lr, --channels, --layers, --train-subset, "
                "--val-fraction, --cifar-root, --train-seed) apply only with --objective live"
            )
        if not self.seeds:
            raise RobotRayError("no seeds given: pass --seeds, e.g. 10-19")
        if self.budget < 1:
            raise RobotRayError(f"--budget must be at least 1, got {self.budget}")


CONFIG_FILE = "search_config.json"


def save_config(config: SearchConfig) -> None:
    """Record the run's settings first thing, so ``--resume OUT`` needs nothing else."""
    atomic_write_json(Path(config.out) / CONFIG_FILE, {"robot_ray_version": __version__, **asdict(config)})


def load_config(out: str | os.PathLike) -> SearchConfig:
    """The settings of the search in ``out``, marked for resuming.

    Raises:
        RobotRayError: ``out`` holds no robot-ray search.
    """
    path = Path(out) / CONFIG_FILE
    if not path.is_file():
        raise RobotRayError(
            f"{str(out)!r} holds no robot-ray search to resume (no {CONFIG_FILE}): "
            "pass the --out directory of an earlier `robot-ray search`"
        )
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise RobotRayError(f"cannot read {path}: {exc}") from exc
    raw.pop("robot_ray_version", None)
    fields = {f.name for f in dataclasses.fields(SearchConfig)}
    unknown = set(raw) - fields
    if unknown:
        raise RobotRayError(f"{path} has settings this robot-ray does not know: {', '.join(sorted(unknown))}")
    for key in ("metrics", "seeds"):
        raw[key] = tuple(raw[key])
    return SearchConfig(**{**raw, "out": str(out), "resume": True})


def load_benchmark(config: SearchConfig) -> Benchmark:
    if config.objective == LIVE:
        from robot_ray.benchmarks.pool import DartsPool

        return DartsPool.from_cache(config.cache, config.dataset)
    options: dict[str, Any] = {}
    if config.space == "nb201":
        options["objective"] = config.objective
    return get_benchmark(config.space, config.dataset, config.data_dir, **options)


def load_metrics(config: SearchConfig, benchmark: Benchmark) -> MetricMatrix:
    """The metric matrix: ``--cache`` if given, else the space's published metric table."""
    if not config.metrics:
        raise RobotRayError("no metrics given: pass --metrics, e.g. synflow,snip,nwot,zen")
    if config.cache:
        # a robot-ray cache directory (manifest + shards), or any Parquet metric table
        # (arch_id + metric columns: the published reference table, a user-supplied one)
        if Path(config.cache, "_manifest.json").is_file():
            from robot_ray.cache import Manifest, read_cache_matrix

            check_cache_matches(Manifest.load(config.cache).settings.to_json(), benchmark, config.cache)
            # shard by shard into one float32 matrix: no DataFrame of the pool, no float64 copy
            return read_cache_matrix(config.cache, list(config.metrics))
        return read_metric_table(config.cache, list(config.metrics), dataset=benchmark.dataset)
    source = published_metric_table(config.space, benchmark.dataset, config.data_dir, config.metrics)
    return read_metric_table(source, list(config.metrics), dataset=benchmark.dataset)


def published_metric_table(space: str, dataset: str, data_dir: str | os.PathLike | None, metrics) -> Any:
    """The published metric table of a space (a path or DataFrame for ``read_metric_table``).

    NB201: the reference scores (all three datasets; filtered by dataset). DARTS: NB301-725's 12
    proxies. TNB101: the task's full-coverage proxies plus our params/flops.
    """
    if space == "nb201":
        from robot_ray.data import data_file

        return data_file(data_dir, "nasbench201", "reference_metrics.parquet")
    if space == "darts":
        from robot_ray.benchmarks.nb301 import metric_table

        return metric_table(data_dir, list(metrics))
    if space == "tnb101_micro":
        from robot_ray.metrics.tnb101_table import metric_table

        return metric_table(data_dir, dataset)
    raise RobotRayError(f"no published metric table for space {space!r}: pass --cache")


def check_cache_matches(settings: dict[str, Any], benchmark: Benchmark, path: str) -> None:
    """A cache computed for another space, or keyed by other ids, would be silently wrong: refuse it.

    The metrics' dataset may differ from the benchmark's (e.g. CIFAR-100 metrics searched against
    the paper's CIFAR-10 objective); that is the user's choice and is recorded in the summary.
    """
    space = settings.get("space")
    if space is not None and space != benchmark.space:
        raise RobotRayError(
            f"cache {path!r} holds {space} architectures, the search is over {benchmark.space}: "
            f"pass --space {space} or a cache precomputed for {benchmark.space}"
        )
    ids = settings.get("ids")
    if benchmark.tabular and ids in ("product", "pool"):
        hint = (
            "precompute it with --data-dir so its ids are the official NB201 ones"
            if benchmark.space == "nb201" else "its ids are rows of its own sampled pool, not of the benchmark table"
        )
        raise RobotRayError(f"cache {path!r} is keyed by {ids} ids, the {benchmark.space} table by its own: {hint}")


def live_objective(config: SearchConfig, benchmark: Benchmark):
    """The training objective of ``--objective live``; its images are checked here, on the driver.

    The data directory is resolved here too (flag or ``$ROBOT_RAY_DATA``), so workers on other
    nodes get the path rather than depend on their environment.
    """
    from robot_ray.data import resolve_data_dir
    from robot_ray.train import LiveObjective

    data_dir = config.data_dir
    if config.cifar_root is None and config.dataset != "digits":
        data_dir = str(resolve_data_dir(config.data_dir))
    objective = LiveObjective(
        benchmark.space, benchmark, config.dataset, data_dir=data_dir, cifar_root=config.cifar_root,
        seed=config.train_seed, **dict(config.train),
    )
    objective.check()
    return objective


def run_method(config: SearchConfig, benchmark: Benchmark, metrics: MetricMatrix | None,
               objective=None) -> list[RunResult]:
    """Run the configured method; ``objective`` (a live one) answers queries instead of the table."""
    if config.method == "robot":
        assert metrics is not None
        if config.use_ray:
            from robot_ray.runs.robot_tune import RayRobotConfig, run_robot_ray

            ray_config = RayRobotConfig(
                budget=config.budget,
                bo_rounds=config.bo_rounds,
                init_trials=config.init_trials,
                acquisition=config.acquisition,
                repeats=config.repeats,
                initial=config.initial,
                per_seed_concurrency=config.per_seed_concurrency,
                trial_resources=dict(config.trial_resources),
            )
            return run_robot_ray(
                benchmark, metrics, list(config.seeds), ray_config,
                out_dir=config.out, progress=config.progress, resume=config.resume, objective=objective,
            )
        from robot_ray.runs.loop import run_robot

        if objective is not None:
            from robot_ray.benchmarks.pool import TrainedPool

            benchmark = TrainedPool(benchmark, objective)
        return [
            run_robot(
                benchmark, config.budget, s, metrics=metrics, bo_rounds=config.bo_rounds,
                init_trials=config.init_trials, acquisition=config.acquisition, repeats=config.repeats,
                initial=config.initial,
            )
            for s in config.seeds
        ]
    from robot_ray.baselines import METHODS as BASELINE_FNS

    key = config.method.replace("-", "_")
    if key not in BASELINE_FNS:
        raise RobotRayError(f"method {config.method!r} is not available; choose one of {', '.join(METHODS)}")
    fn = BASELINE_FNS[key]
    return [fn(benchmark, config.budget, s, metrics=metrics, **config.method_options) for s in config.seeds]


def run_search(config: SearchConfig) -> dict[str, Any]:
    """Run the configured search and write its result files; returns the summary dict."""
    started = time.time()
    benchmark = load_benchmark(config)
    if not config.resume:
        save_config(config)
    needs_metrics = config.method in ("robot", "single-metric")
    metrics = load_metrics(config, benchmark) if needs_metrics else None
    objective = live_objective(config, benchmark) if config.objective == LIVE else None
    runs = run_method(config, benchmark, metrics, objective)
    meta = {
        "objective": benchmark.value_name,
        "test_name": benchmark.test_name,
        "budget": config.budget,
        "metrics": list(metrics.names) if metrics is not None else None,
        "metric_notes": list(metrics.notes) if metrics is not None else [],
        "wall_time_s": time.time() - started,
        "config": {k: v for k, v in asdict(config).items() if k not in ("progress",)},
    }
    if objective is not None:
        meta["training"] = {**asdict(objective.settings), "dataset": objective.dataset,
                            "seed": objective.seed, "cifar_root": objective.cifar_root}
    return write_results(Path(config.out), runs, method=config.method, space=benchmark.space, dataset=benchmark.dataset, **meta)


def format_run_line(run: dict[str, Any]) -> str:
    t0 = f" T0={run['t0']:>2}" if run.get("t0") is not None else ""
    return (
        f"seed {run['seed']:>3}: best arch {run['best_arch_id']:>6} value {run['best_value']:.3f} "
        f"test {run['best_test_value']:.3f}{t0} queries {run['queries']} cost {run['cost']:.0f}s"
    )


def format_summary(summary: dict[str, Any]) -> str:
    t0 = f", mean T0 {summary['mean_t0']:.1f}" if "mean_t0" in summary else ""
    return (
        f"{summary['method']} on {summary['space']}/{summary['dataset']} (T={summary['budget']}, "
        f"{len(summary['runs'])} seeds): test {summary['mean_test_value']:.2f} ± {summary['std_test_value']:.2f}"
        f"{t0}, mean query cost {summary['mean_cost']:.0f}s"
    )

