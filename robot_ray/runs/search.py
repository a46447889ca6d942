"""What ``robot-ray search`` does, as a library call: config in, result files and summary out.

The CLI and the job scripts only build a :class:`SearchConfig`; this module loads the
benchmark and the metric matrix, runs the method (RoBoT on Ray, RoBoT in a plain loop, or a
baseline), and writes ``trajectory.parquet`` and ``summary.json``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from robot_ray import __version__
from robot_ray.benchmarks import get_benchmark
from robot_ray.benchmarks.base import Benchmark
from robot_ray.errors import RobotRayError
from robot_ray.metric_sources import MetricSource
from robot_ray.metrics.matrix import MetricMatrix
from robot_ray.algorithm.ledger import RunResult
from robot_ray.io.atomic import atomic_write_json
from robot_ray.algorithm.bo_engine import BO_ENGINES
from robot_ray.io.lease import Lease
from robot_ray.runs.results import write_results

PAPER_METRICS = ("grad_norm", "snip", "grasp", "fisher", "synflow", "jacob_cov")
REFERENCE_METRICS = ("synflow", "snip", "nwot", "zen")
BASELINES = ("rs", "rea", "reinforce", "weaknas", "single-metric", "prenas", "swapnas")
METHODS = ("robot",) + BASELINES
LIVE = "live"
OBJECTIVES = ("robot", "dataset", LIVE)
LIVE_SPACES = ("darts",)
LIVE_METHODS = ("robot", "prenas", "swapnas")
"""Methods ``--objective live`` runs: RoBoT, and the baselines whose searchers train each query in a
Tune trial (:mod:`robot_ray.runs.live_baselines`)."""


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
    engine: str = "gp"  # the BO engine: "gp" (light, the default) or "ax"
    use_ray: bool = True
    per_seed_concurrency: int | None = None  # BO trials of a seed in flight; None: 1 on a table, "auto" live
    table_trials: str = "seed"  # on Ray, a table search's Tune trials: one per "seed" or one per "query"
    trial_resources: dict = field(default_factory=lambda: {"cpu": 0.25})
    resume: bool = False
    progress: bool = True
    method_options: dict = field(default_factory=dict)
    # objective "live": TrainSettings overrides (epochs, batch_size, lr, size, train_subset, val_fraction, ...),
    # the official CIFAR folder to train on (else the data directory's npz subset or digits), the training seed
    train: dict = field(default_factory=dict)
    cifar_root: str | None = None
    train_seed: int = 0
    # swapnas with --objective live: its fitness, a column of the pool's metric cache ("cache") or SWAP scored
    # live over the whole DARTS space, the returned genotype trained with train_final ("live", runs/swapnas_live.py)
    fitness: str = "cache"

    def __post_init__(self) -> None:
        # trials run in other working directories (and other nodes): every input path is absolute
        for key in ("data_dir", "cache", "cifar_root"):
            value = getattr(self, key)
            if value not in (None, "") and "://" not in str(value):
                object.__setattr__(self, key, str(Path(value).expanduser().resolve()))
        if self.method not in METHODS:
            raise RobotRayError(f"unknown method {self.method!r}; choose one of {', '.join(METHODS)}")
        if self.engine not in BO_ENGINES:
            raise RobotRayError(f"unknown BO engine {self.engine!r}; choose one of {', '.join(BO_ENGINES)}")
        if self.table_trials not in ("seed", "query"):
            raise RobotRayError(f"unknown table_trials {self.table_trials!r}; choose seed or query")
        if self.objective not in OBJECTIVES:
            raise RobotRayError(f"unknown objective {self.objective!r}; choose one of {', '.join(OBJECTIVES)}")
        if self.objective == LIVE:
            if self.space not in LIVE_SPACES:
                raise RobotRayError(
                    f"--objective live trains genotypes of a precomputed DARTS pool (--space darts --cache CACHE), "
                    f"got --space {self.space}; NB201 live training runs in the embedded search "
                    "(`robot-ray search` without a data directory) or through robot_ray.train.LiveObjective"
                )
            if self.method not in LIVE_METHODS:
                raise RobotRayError(
                    f"--objective live works with --method {', '.join(LIVE_METHODS)}; {self.method} needs a "
                    "benchmark table"
                )
            if self.method != "robot" and not self.use_ray:
                raise RobotRayError(
                    f"--objective live --method {self.method} trains its queries as Ray Tune trials: drop --no-ray"
                )
            if self.fitness == "live" and self.cache:
                raise RobotRayError(
                    "--fitness live scores SWAP during the search and reads no metric cache: drop --cache "
                    "(or use --fitness cache to evolve on the cache's pool)"
                )
            if not self.cache and self.fitness != "live":
                raise RobotRayError(
                    "--objective live needs --cache: a DARTS pool precomputed with "
                    "`robot-ray precompute --space darts --archs sample:N:SEED --out CACHE ...`"
                    + (", or --fitness live (SWAP-NAS scored live, no cache)" if self.method == "swapnas" else "")
                )
        elif self.train or self.cifar_root or self.train_seed:
            raise RobotRayError(
                "training settings (--epochs, --train-batch-size, --lr, --channels, --layers, --train-subset, "
                "--val-fraction, --cifar-root, --train-seed) apply only with --objective live"
            )
        if self.fitness not in ("cache", "live"):
            raise RobotRayError(f"unknown fitness {self.fitness!r}; choose cache or live")
        if self.fitness == "live" and (self.method != "swapnas" or self.objective != LIVE):
            raise RobotRayError(
                f"--fitness live is SWAP-NAS's live fitness: it needs --method swapnas --objective live --space darts, "
                f"got --method {self.method} --objective {self.objective}"
            )
        if self.method_options.get("inherit") and (self.method != "prenas" or self.objective != LIVE):
            raise RobotRayError(
                "inherit=True is PRE-NAS's weight inheritance: it trains children from their parents' weights "
                "in a live search (--method prenas --objective live --inherit-weights); a table answers alike "
                "without it: leave it out"
            )
        if not self.seeds:
            raise RobotRayError("no seeds given: pass --seeds, e.g. 10-19")
        if self.budget < 1:
            raise RobotRayError(f"--budget must be at least 1, got {self.budget}")


def search_config(**settings: Any) -> SearchConfig:
    """A SearchConfig from keywords; sequences become tuples, unknown names a clear error."""
    known = {f.name for f in dataclasses.fields(SearchConfig)}
    unknown = set(settings) - known
    if unknown:
        raise RobotRayError(f"unknown search setting(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
    for key in ("metrics", "seeds"):
        if key in settings and not isinstance(settings[key], str):
            settings[key] = tuple(settings[key])
    return SearchConfig(**settings)


CONFIG_FILE = "search_config.json"


def save_config(config: SearchConfig) -> None:
    """Record the run's settings first thing, so ``--resume OUT`` needs nothing else."""
    atomic_write_json(Path(config.out) / CONFIG_FILE, {"robot_ray_version": __version__, **asdict(config)})


def load_config(out: str | os.PathLike) -> SearchConfig:
    """The settings of the search in ``out``, marked for resuming.

    Raises:
        RobotRayError: ``out`` is not private to the user (a resume unpickles Tune's state from it:
            :func:`robot_ray.io.trust.check_private_dir`), or holds no robot-ray search.
    """
    from robot_ray.io.trust import check_private_dir

    check_private_dir(out, "the search to resume")
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
    damaged = f"{path} is damaged ({{}}): restore it from a copy, or start a new search with another --out"
    if not isinstance(raw, dict):
        raise RobotRayError(damaged.format(f"a JSON {type(raw).__name__}, not an object of settings"))
    raw.pop("robot_ray_version", None)
    fields = {f.name for f in dataclasses.fields(SearchConfig)}
    unknown = set(raw) - fields
    if unknown:
        raise RobotRayError(f"{path} has settings this robot-ray does not know: {', '.join(sorted(unknown))}")
    for key in ("metrics", "seeds"):
        if not isinstance(raw.get(key), list):
            raise RobotRayError(damaged.format(f"{key!r} is {raw.get(key)!r}, not a list"))
        raw[key] = tuple(raw[key])
    try:
        return SearchConfig(**{**raw, "out": str(out), "resume": True})
    except (TypeError, ValueError, AttributeError, KeyError) as exc:  # a value of the wrong type
        raise RobotRayError(damaged.format(f"{type(exc).__name__}: {exc}")) from None


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
    return metric_source(config, benchmark).load(benchmark)


def metric_source(config: SearchConfig, benchmark: Benchmark) -> MetricSource:
    """Where this search's metrics come from (recorded in the searchers' checkpoints)."""
    if not config.metrics:
        raise RobotRayError("no metrics given: pass --metrics, e.g. synflow,snip,nwot,zen")
    return MetricSource(benchmark.space, tuple(config.metrics), benchmark.dataset, config.cache, config.data_dir)


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
    weights_dir = None
    if config.method_options.get("inherit"):  # PRE-NAS's children start from their parents' kept weights
        weights_dir = f"{str(config.out).rstrip('/')}/weights"
    objective = LiveObjective(
        benchmark.space, benchmark, config.dataset, data_dir=data_dir, cifar_root=config.cifar_root,
        seed=config.train_seed, weights_dir=weights_dir, **dict(config.train),
    )
    objective.check()
    return objective


def run_method(config: SearchConfig, benchmark: Benchmark, metrics: MetricMatrix | None,
               objective=None) -> list[RunResult]:
    """Run the configured method; ``objective`` (a live one) answers queries instead of the table."""
    if config.method == "robot":
        assert metrics is not None
        from robot_ray.runs.robot import RobotSettings, TuneSettings, run_robot

        settings = RobotSettings(
            budget=config.budget, bo_rounds=config.bo_rounds, init_trials=config.init_trials,
            acquisition=config.acquisition, repeats=config.repeats, initial=config.initial,
            bo_concurrency=config.per_seed_concurrency or ("auto" if objective is not None else 1),
            engine=config.engine,
        )
        return run_robot(
            benchmark, metrics, list(config.seeds), settings, objective=objective, use_ray=config.use_ray,
            tune_settings=TuneSettings(trial_resources=dict(config.trial_resources), table_trials=config.table_trials),
            out_dir=config.out,
            resume=config.resume, progress=config.progress,
        )
    if objective is not None and config.fitness == "live":  # SWAP-NAS scored live, then train_final
        from robot_ray.runs.swapnas_live import run_swapnas_live

        return run_swapnas_live(objective, config.seeds, trial_resources=dict(config.trial_resources),
                                out_dir=config.out, resume=config.resume, progress=config.progress)
    if objective is not None:  # PRE-NAS, SWAP-NAS live: their Tune searchers, each query a training trial
        from robot_ray.runs.live_baselines import run_live_baseline

        return run_live_baseline(
            config.method, benchmark, metrics, config.seeds, config.budget, objective=objective,
            trial_resources=dict(config.trial_resources), out_dir=config.out, options=dict(config.method_options),
            resume=config.resume, progress=config.progress,
        )
    from robot_ray.baselines import METHODS as BASELINE_FNS

    key = config.method.replace("-", "_")
    if key not in BASELINE_FNS:
        raise RobotRayError(f"method {config.method!r} is not available; choose one of {', '.join(METHODS)}")
    fn = BASELINE_FNS[key]
    return [fn(benchmark, config.budget, s, metrics=metrics, **config.method_options) for s in config.seeds]


@dataclass(frozen=True)
class PreparedSearch:
    """A search whose input is loaded and checked: what :func:`run_search` runs."""

    config: SearchConfig
    benchmark: Benchmark
    metrics: MetricMatrix | None
    objective: Any = None


def prepare_search(config: SearchConfig) -> PreparedSearch:
    """Load and check a search's input without Ray and without writing anything.

    The benchmark (the space's datasets, the data directory), the metric matrix (unknown metrics,
    NaN-only, constant or non-numeric columns, a damaged cache, a cache of another space), the
    budget against both, and a live objective's images: so these fail before Ray starts and
    before ``out`` is created, and the search loads nothing twice.

    A resume (``config.resume``) is checked first (:func:`robot_ray.runs.resume.check_resume`):
    ``out`` is private to the user, was started with these settings and holds the state it needs.

    Raises:
        RobotRayError: the first problem found, naming it and the fix.
    """
    from robot_ray.cache import Manifest

    if config.resume:
        from robot_ray.runs.resume import check_resume

        check_resume(config, load_config(config.out))  # load_config checks the directory's trust first
    for flag, value in (("--data-dir", config.data_dir), ("--cache", config.cache)):
        if value and "://" in str(value):
            raise RobotRayError(f"{flag} {value!r}: robot-ray search reads local paths; stage the URI down "
                                "first (jobs/search.py does, see docs/cluster.md)")
    if config.cache:
        cache = Path(config.cache).expanduser()
        if not cache.exists():
            raise RobotRayError(f"--cache {config.cache!r} does not exist: pass the --out of `robot-ray precompute` "
                                "or a Parquet metric table")
        if cache.is_dir():
            Manifest.load(cache)  # refuses a directory without (or with a damaged) manifest
        elif cache.is_file():
            _check_table_columns(cache, config.metrics)
    if config.fitness == "live":
        return _prepare_live_swapnas(config)
    benchmark = load_benchmark(config)
    if config.budget > benchmark.num_archs:
        raise RobotRayError(f"--budget {config.budget}: budget must be in 1..{benchmark.num_archs} (the "
                            f"architectures of {benchmark.space}/{benchmark.dataset}); lower it")
    metrics = None
    if uses_metrics(config):
        metrics = load_metrics(config, benchmark)
        # swapnas spends one query and prenas's matrix only adds features: T is not bounded by the matrix
        if config.method in ("robot", "single-metric") and config.budget > metrics.num_archs:
            raise RobotRayError(f"--budget {config.budget}: budget must be in 1..{metrics.num_archs} (the pool's "
                                "architectures with metrics); lower it")
    objective = live_objective(config, benchmark) if config.objective == LIVE else None
    return PreparedSearch(config, benchmark, metrics, objective)


def _prepare_live_swapnas(config: SearchConfig) -> PreparedSearch:
    """SWAP-NAS with ``fitness="live"``: no pool, no metrics; its plan and data checked on the driver."""
    from robot_ray.benchmarks.genotypes import Genotypes
    from robot_ray.data import resolve_data_dir
    from robot_ray.runs.swapnas_live import check_data, plan_from

    data_dir = config.data_dir
    if config.dataset != "digits":
        data_dir = str(resolve_data_dir(config.data_dir))  # the score's batch is read from it
    search = plan_from(dataset=config.dataset, train=dict(config.train), train_seed=config.train_seed,
                       cifar_root=config.cifar_root, data_dir=data_dir, options=dict(config.method_options))
    check_data(search)
    return PreparedSearch(config, Genotypes([], config.dataset), None, search)


def uses_metrics(config: SearchConfig) -> bool:
    """Whether the method reads the metric matrix: RoBoT, and the baselines that do
    (:func:`robot_ray.baselines.uses_metrics`: single-metric, swapnas, prenas with metric features)."""
    from robot_ray.baselines import uses_metrics as baseline_uses_metrics

    return config.method == "robot" or baseline_uses_metrics(config.method, config.method_options)


def _check_table_columns(path: Path, metrics: tuple[str, ...]) -> None:
    """A Parquet metric table's requested columns exist and are numeric (read from its schema only)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # pyarrow raises several types for files that are not Parquet
        raise RobotRayError(f"--cache {str(path)!r} is not a Parquet metric table ({type(exc).__name__}: "
                            f"{str(exc).splitlines()[0] if str(exc) else ''}): pass a Parquet file or a cache "
                            "directory") from exc
    for name in metrics:
        if name in schema.names:
            kind = schema.field(name).type
            if not (pa.types.is_floating(kind) or pa.types.is_integer(kind)):
                raise RobotRayError(f"metric column {name!r} of {str(path)!r} holds {kind}, not numbers: "
                                    "write it as float64 (NaN where undefined) or leave it out of --metrics")




def run_search(config: SearchConfig | None = None, *, prepared: PreparedSearch | None = None,
               lease: Lease | None = None, lease_wait: float = 0.0, **settings: Any) -> dict[str, Any]:
    """Run a search and write its result files; returns the summary dict.

    The one entry point of ``robot-ray search``, ``jobs/search.py`` and ``bench/``: pass a
    :class:`SearchConfig`, or its fields as keywords (``run_search(space="nb201", seeds=(0, 1),
    out="out/x")``). RoBoT on Ray connects to Ray first if nothing did
    (:func:`robot_ray.cluster.connect`).

    The run holds the writer's lease on ``out`` (:func:`output_lease`) from before its first write
    to after its last, released however it ends: ``lease``, already held by the caller (the CLI
    takes it before Ray starts), or its own, waiting ``lease_wait`` seconds for another writer of
    ``out`` (0: refuse at once).

    Raises:
        RobotRayError: bad settings or data, or another live search writing ``out``.
        RunInterrupted: SIGINT/SIGTERM stopped it (resume with ``resume=True`` and the same ``out``).
    """
    started = time.time()
    if prepared is None:
        if config is None:
            config = search_config(**settings)
        elif settings:
            raise RobotRayError("run_search takes a SearchConfig or keyword settings, not both")
        prepared = prepare_search(config)
    elif config is not None or settings:
        raise RobotRayError("run_search takes a SearchConfig, keyword settings or a PreparedSearch, one of them")
    if lease is not None:
        if lease.location != str(prepared.config.out):
            raise RobotRayError(f"run_search: the lease given is on {lease.location}, not on out {prepared.config.out}")
        return _run_holding(prepared, lease, started)
    with output_lease(prepared.config, wait=lease_wait) as held:
        return _run_holding(prepared, held, started)


def output_lease(config: SearchConfig, *, wait: float = 0.0) -> Lease:
    """The writer's lease on ``config.out`` (not yet taken: use it as ``with output_lease(config) as lease``).

    One writer per output directory: a second search into it is refused naming the first, or waits
    ``wait`` seconds (:mod:`robot_ray.io.lease`).
    """
    return Lease(config.out, what="search output", wait=wait,
                 hint="or pass another --out (or, once it has stopped, continue it with --resume)")


def _run_holding(prepared: PreparedSearch, lease: Lease, started: float) -> dict[str, Any]:
    config, benchmark, metrics, objective = prepared.config, prepared.benchmark, prepared.metrics, prepared.objective
    if not config.resume:
        save_config(config)
    runs = run_method(config, benchmark, metrics, objective)
    lease.check()  # another writer took --out over while this one stalled: do not overwrite its results
    if benchmark.tabular and benchmark.space != "nb201":
        # TNB101 and NB301 results are judged by rank: record the returned architecture's
        for run in runs:
            run.extra.update(best_rank=benchmark.test_rank(run.ledger.best().arch_id), num_archs=benchmark.num_archs)
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


def _cost(cost: Any) -> str:
    """``1234s``, or ``n/a`` where the benchmark has no training times (TNB101, NB301: NaN)."""
    try:
        cost = float(cost)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if math.isnan(cost) else f"{cost:.0f}s"


def _rank(run: dict[str, Any]) -> str:
    """`` rank 3/4096`` where the run summary carries the returned arch's rank, else empty."""
    rank = run.get("best_rank", run.get("rank"))
    if rank is None:
        return ""
    of = run.get("num_archs")
    return f" rank {int(rank)}" + (f"/{int(of)}" if of is not None else "")


def format_run_line(run: dict[str, Any]) -> str:
    t0 = f" T0={run['t0']:>2}" if run.get("t0") is not None else ""
    return (
        f"seed {run['seed']:>3}: best arch {run['best_arch_id']:>6} value {run['best_value']:.3f} "
        f"test {run['best_test_value']:.3f}{_rank(run)}{t0} queries {run['queries']} cost {_cost(run['cost'])}"
    )


def format_summary(summary: dict[str, Any]) -> str:
    t0 = f", mean T0 {summary['mean_t0']:.1f}" if "mean_t0" in summary else ""
    name = str(summary.get("test_name") or "test").split(" (")[0]  # NB301: "val_acc_surrogate (no test ...)"
    name = "test" if name.startswith("test") else name  # a TNB101 task's metric or NB301's surrogate by name
    return (
        f"{summary['method']} on {summary['space']}/{summary['dataset']} (T={summary['budget']}, "
        f"{len(summary['runs'])} seeds): {name} {summary['mean_test_value']:.2f} ± {summary['std_test_value']:.2f}"
        f"{t0}, mean query cost {_cost(summary['mean_cost'])}"
    )
