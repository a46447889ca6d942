"""RoBoT for several seeds: one :class:`RoBoTSearcher` per seed, on Tune or in a plain loop.

This is what ``robot-ray search``, ``compare``, the embedded demo, ``bench/`` and ``jobs/`` run.
On Ray, all seeds share one Tune experiment, with one of two trial granularities:

* ``"query"`` (every live search): a trial per architecture, :mod:`robot_ray.tune.trainables`
  (training on the trial's resources, or a table query); :class:`SeedFanoutSearcher`
  interleaves the seeds' searchers. What a user's own ``tune.Tuner`` with a ``RoBoTSearcher`` does.
* ``"seed"`` (the default on a table): a trial per seed, which drives that seed's searcher
  against the table inside the trial (:func:`seed_trial`). A table query takes microseconds and a
  Tune trial tens of milliseconds of bookkeeping, 20 of them one after another per seed (the BO
  is sequential): per-query trials made a 10-seed NB201 search 5.6x slower than the plain loop.

``use_ray=False`` drives the very same searchers one trial at a time
(:func:`robot_ray.runs.drive.drive`). Either way a seed's result is read off its searcher.

Resume: Tune checkpoints the fan-out searcher (JSON state, the metric matrix by reference), or
the finished seed trials' results (each holds its searcher's JSON state), with its experiment;
``resume=True`` continues it with ``Tuner.restore`` (an unfinished seed trial reruns: the same
answer, in seconds). A run stopped by SIGINT/SIGTERM raises
:class:`~robot_ray.errors.RunInterrupted` instead of returning a result.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import math
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robot_ray.algorithm.ledger import QueryLedger, RunResult
from robot_ray.benchmarks.base import Benchmark, Query
from robot_ray.errors import RobotRayError, RunInterrupted
from robot_ray.io.trust import check_private_dir
from robot_ray.metrics.matrix import MetricMatrix
from robot_ray.tune.robot_searcher import RoBoTSearcher

TUNE_DIR = "tune"
EXPERIMENT = "robot"
TABLE_TRIALS = ("seed", "query")


@dataclass(frozen=True)
class RobotSettings:
    """RoBoT's options, as every run passes them to :class:`RoBoTSearcher` (see its Args)."""

    budget: int = 20
    bo_rounds: int | None = None
    init_trials: int = 1
    acquisition: str = "ucb"
    repeats: str = "novel"
    initial: str = "corners"
    bo_concurrency: int | str | None = 1
    """BO trials of a seed in flight: 1 (the paper's sequential BO), a number, None (no limit of
    the searcher's own) or ``"auto"``: as many as the Ray cluster runs trials of this search at
    once (live training, where a trial takes minutes and the GP spreads pending proposals)."""
    engine: str = "gp"

    def searcher(self, metrics: MetricMatrix, seed: int) -> RoBoTSearcher:
        if self.bo_concurrency == "auto":
            raise RobotRayError("bo_concurrency='auto' is resolved by run_robot on Ray; give a number here")
        return RoBoTSearcher(
            metrics, self.budget, seed, metric="value", mode="max", bo_rounds=self.bo_rounds,
            init_trials=self.init_trials, acquisition=self.acquisition, repeats=self.repeats,
            initial=self.initial, bo_concurrency=self.bo_concurrency, engine=self.engine,
        )


@dataclass(frozen=True)
class TuneSettings:
    """How trials run on Ray.

    Attributes:
        trial_resources: per trial, e.g. ``{"cpu": 0.25}`` for a table lookup or
            ``{"cpu": 1, "gpu": 1}`` to train on the trial's GPU.
        max_concurrent_trials: cap over all seeds (None: bounded by resources only).
        per_seed_concurrency: trials of one seed in flight (None: as its searcher allows).
        table_trials: on a table, ``"seed"`` (a trial per seed, the default) or ``"query"``
            (a trial per architecture, as a live search). Live searches are always ``"query"``.
        seed_trial_resources: per seed trial (its searcher's GP and the table lookups).
    """

    trial_resources: dict = field(default_factory=lambda: {"cpu": 0.25})
    max_concurrent_trials: int | None = None
    per_seed_concurrency: int | None = None
    table_trials: str = "seed"
    seed_trial_resources: dict = field(default_factory=lambda: {"cpu": 1})

    def __post_init__(self) -> None:
        if self.table_trials not in TABLE_TRIALS:
            raise RobotRayError(f"unknown table_trials {self.table_trials!r}; choose one of {', '.join(TABLE_TRIALS)}")


def run_robot(
    benchmark: Benchmark,
    metrics: MetricMatrix,
    seeds: Sequence[int],
    settings: RobotSettings,
    *,
    objective: Callable[[int], Query] | None = None,
    use_ray: bool = True,
    tune_settings: TuneSettings | None = None,
    out_dir: str | os.PathLike | None = None,
    resume: bool = False,
    progress: bool = True,
) -> list[RunResult]:
    """RoBoT for every seed; one :class:`RunResult` each, in seed order.

    Args:
        benchmark: names the architectures, and answers queries when ``objective`` is None.
        metrics: the normalised metric matrix over the pool.
        objective: a live objective ``arch_id -> Query`` run inside trials; None = the table.
        use_ray: one Tune experiment (``ray.init`` first), else a plain loop in this process.
        out_dir: where Tune's experiment directory goes (Ray only).
        resume: continue the Tune experiment found in ``out_dir``.
    """
    seeds = sorted({int(s) for s in seeds})
    if not seeds:
        raise RobotRayError("no seeds given: pass at least one seed")
    evaluate = objective or benchmark.query
    if settings.bo_concurrency == "auto":  # the plain loop runs one trial at a time anyway
        slots = trial_slots((tune_settings or TuneSettings()).trial_resources) if use_ray else 1
        settings = dataclasses.replace(settings, bo_concurrency=slots)
    if not use_ray:
        searchers = {s: settings.searcher(metrics, s) for s in seeds}
        from robot_ray.runs.drive import drive

        for s, searcher in searchers.items():
            drive(searcher, lambda config: evaluate(int(config["arch_id"])), prefix=f"seed{s}_")
        return [result_of(searchers[s], benchmark, s) for s in seeds]
    if out_dir is None:
        raise RobotRayError("a RoBoT run on Ray needs an output directory for its Tune experiment")
    ts = tune_settings or TuneSettings()
    if objective is None and ts.table_trials == "seed":
        searchers = _run_seed_trials(benchmark, metrics, seeds, settings, ts, out_dir=Path(out_dir), resume=resume,
                                     progress=progress)
        return [result_of(searchers[s], benchmark, s) for s in seeds]
    fanout = _run_on_tune(benchmark, metrics, seeds, settings, ts,
                          objective=objective, out_dir=Path(out_dir), resume=resume, progress=progress)
    return [result_of(fanout.children[s], benchmark, s) for s in seeds]


def trial_slots(resources: dict) -> int:
    """How many trials asking ``resources`` (``{"cpu": c, "gpu": g}``) the Ray cluster runs at once."""
    import ray

    from robot_ray.cluster import connect

    connect()  # a no-op when Ray is up
    total = ray.cluster_resources()
    names = {"cpu": "CPU", "gpu": "GPU"}
    fits = [total.get(names.get(key, key), 0.0) // float(need) for key, need in resources.items() if float(need) > 0]
    return max(1, int(min(fits))) if fits else 1


def seed_trial(config: dict[str, Any], *, benchmark: Benchmark, metrics: MetricMatrix,
               settings: RobotSettings) -> None:
    """One seed's whole search against the table, in one Tune trial; reports the searcher's state."""
    from ray import tune

    from robot_ray.runs.drive import drive

    seed = int(config["seed"])
    searcher = settings.searcher(metrics, seed)
    drive(searcher, lambda c: benchmark.query(int(c["arch_id"])), prefix=f"seed{seed}_")
    best = searcher.best()
    tune.report({"value": math.nan if best is None else best["value"], "seed": seed,
                 "searcher_state": json.dumps(searcher.get_state())})


def _run_seed_trials(benchmark, metrics, seeds, settings, ts: TuneSettings, *, out_dir: Path, resume: bool,
                     progress: bool) -> dict[int, RoBoTSearcher]:
    """Every seed as one Tune trial on a table; each seed's searcher, rebuilt from its trial's result."""
    from ray import tune

    from robot_ray.tune.progress import TrialProgress

    trainable = tune.with_parameters(seed_trial, benchmark=benchmark, metrics=metrics, settings=settings)
    trainable = tune.with_resources(trainable, dict(ts.seed_trial_resources))
    bar = TrialProgress(total=len(seeds), description="seeds", enabled=progress)

    def new_tuner():
        return tune.Tuner(
            trainable, param_space={"seed": tune.grid_search(list(seeds))},
            tune_config=tune.TuneConfig(metric="value", mode="max", reuse_actors=True,
                                        max_concurrent_trials=ts.max_concurrent_trials),
            run_config=run_config(out_dir, bar),
        )

    grid = fit_experiment(new_tuner, trainable, bar, out_dir=out_dir, resume=resume)
    searchers = {}
    for result in grid:
        if result.error is None and result.metrics and "searcher_state" in result.metrics:
            state = json.loads(result.metrics["searcher_state"])
            searchers[int(result.metrics["seed"])] = RoBoTSearcher.from_state(state, metrics)
    check_finished([s for s in seeds if s not in searchers], grid, out_dir)
    return searchers


def check_finished(unfinished: list[int], grid, out_dir: Path) -> None:
    """A run with unfinished seeds is no result: the first trial error if a trial failed (a
    RobotRayError), else an interruption to resume (RunInterrupted)."""
    if not unfinished:
        return
    errors = [r.error for r in grid if r.error is not None]
    if errors:
        raise RobotRayError(f"{len(errors)} trial(s) failed; first error: {trial_error_line(errors[0])}")
    raise RunInterrupted(f"the search in {out_dir} stopped before its end (seeds {unfinished} unfinished)")


def trial_error_line(error: BaseException) -> str:
    """One line for a failed trial: the RobotRayError raised in it, else the traceback's last line.

    Why: a trial's error is a RayTaskError whose text is the worker's whole traceback (200 lines),
    and the cause a user needs is its last line.
    """
    cause = error
    for _ in range(8):  # RayTaskError -> TuneError -> ...: the innermost cause
        inner = getattr(cause, "cause", None) or cause.__cause__
        if inner is None or inner is cause:
            break
        cause = inner
    if isinstance(cause, RobotRayError):
        return str(cause)
    lines = [line.strip() for line in str(cause).strip().splitlines() if line.strip()]
    last = lines[-1] if lines else type(cause).__name__
    return last if len(last) <= 400 else last[:397] + "..."


def experiment_dir(out_dir: str | os.PathLike) -> Path:
    """Where a search's Tune experiment lives: OUT/tune/robot."""
    return Path(out_dir).resolve() / TUNE_DIR / EXPERIMENT


def run_config(out_dir: Path, bar):
    """The RunConfig of every robot-ray Tune experiment (its place, our progress bar, retries)."""
    from ray import tune

    return tune.RunConfig(
        name=EXPERIMENT, storage_path=str(out_dir.resolve() / TUNE_DIR), verbose=0, callbacks=[bar],
        log_to_file=False,
        # a trial lost with its node is retried from scratch; its searcher still waits for it
        failure_config=tune.FailureConfig(max_failures=3),
    )


def fit_experiment(new_tuner, trainable, bar, *, out_dir: Path, resume: bool):
    """Run (or, with ``resume``, restore and continue) the experiment at OUT/tune/robot."""
    from ray import tune

    from robot_ray.cluster import connect

    connect()  # a no-op when Ray is up
    exp_dir = experiment_dir(out_dir)
    # our own progress bar replaces Tune's console output (its config box, TensorBoard hints)
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    if not resume and exp_dir.exists():
        # a new search in this directory: an older experiment there would be read back as its state
        shutil.rmtree(exp_dir)
    if resume and tune.Tuner.can_restore(str(exp_dir)):
        # Tune unpickles its experiment state: only from a directory no one else can write
        check_private_dir(str(exp_dir), "the Tune experiment to resume")
        tuner = tune.Tuner.restore(str(exp_dir), trainable=trainable, resume_errored=True, restart_errored=False)
    else:
        tuner = new_tuner()
    with bar:
        return tuner.fit()


def _run_on_tune(benchmark, metrics, seeds, settings, ts: TuneSettings, *, objective, out_dir: Path, resume: bool,
                 progress: bool):
    from ray import tune

    from robot_ray.tune.fanout import SeedFanoutSearcher
    from robot_ray.tune.progress import TrialProgress
    from robot_ray.tune.trainables import live_trial, table_trial

    if objective is None:
        trainable = tune.with_parameters(table_trial, benchmark=benchmark)
    else:
        trainable = tune.with_parameters(live_trial, objective=objective)
    trainable = tune.with_resources(trainable, dict(ts.trial_resources))
    bar = TrialProgress(total=len(seeds) * settings.budget, description="trials", enabled=progress)

    def new_tuner():
        fanout = SeedFanoutSearcher({s: settings.searcher(metrics, s) for s in seeds},
                                    per_seed_concurrency=ts.per_seed_concurrency, metric="value", mode="max")
        return tune.Tuner(
            trainable,
            tune_config=tune.TuneConfig(
                search_alg=fanout, metric="value", mode="max", num_samples=-1, reuse_actors=True,
                max_concurrent_trials=ts.max_concurrent_trials,
            ),
            run_config=run_config(out_dir, bar),
        )

    grid = fit_experiment(new_tuner, trainable, bar, out_dir=out_dir, resume=resume)
    fanout = SeedFanoutSearcher.from_checkpoint(newest_searcher_state(experiment_dir(out_dir)), metrics)
    check_finished([s for s, child in fanout.children.items() if not child.finished], grid, out_dir)
    return fanout


def newest_searcher_state(exp_dir: Path) -> str:
    """Tune writes the searcher's JSON state beside its experiment state at the end of ``fit``."""
    found = sorted(glob.glob(str(exp_dir / "searcher-state-*.pkl")))
    if not found:
        raise RobotRayError(f"no searcher state in {exp_dir}: the Tune experiment did not start")
    return found[-1]


def result_of(searcher: RoBoTSearcher, benchmark: Benchmark, seed: int) -> RunResult:
    """A seed's searcher history as the ledger every method's results are written from."""
    ledger = QueryLedger(benchmark, searcher.budget)
    for row in searcher.history():
        if row["stage"] == "evaluated":
            continue
        value = math.nan if row["value"] is None else row["value"]
        extra = row["extra"]
        ledger.record(row["arch_id"], Query(value, extra.get("test_value", math.nan), extra.get("cost", math.nan)),
                      stage=row["stage"], weights=row["weights"])
    w = searcher.best_weights()
    return RunResult(seed=seed, ledger=ledger, t0=searcher.t0,
                     best_weights={n: float(v) for n, v in zip(searcher.names, w)})


def robot_runner(benchmark: Benchmark, budget: int, seed: int, *, metrics: MetricMatrix, **options: Any) -> RunResult:
    """RoBoT with the signature of every baseline runner (the comparison runner's RoBoT rows)."""
    if metrics is None:
        raise RobotRayError("RoBoT needs training-free metrics: pass metric names")
    known = {f for f in RobotSettings.__dataclass_fields__ if f != "budget"}
    unknown = set(options) - known
    if unknown:
        raise RobotRayError(f"robot got unknown option(s) {', '.join(sorted(unknown))}; it accepts: {', '.join(sorted(known))}")
    settings = RobotSettings(budget=budget, **options)
    return run_robot(benchmark, metrics, [seed], settings, use_ray=False)[0]
