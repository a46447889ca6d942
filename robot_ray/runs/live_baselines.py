"""PRE-NAS and SWAP-NAS on a live DARTS pool: each queried genotype trained in a Ray Tune trial.

The same machinery as RoBoT's live search (:mod:`robot_ray.runs.robot`): one Tune experiment at
``OUT/tune/robot``, every seed's searcher behind a :class:`~robot_ray.tune.fanout.SeedFanoutSearcher`,
the trainable :func:`robot_ray.tune.trainables.live_trial` running the search's
:class:`robot_ray.train.LiveObjective` on the trial's resources (``--trial-cpus``/``--trial-gpus``),
``--resume`` through Tune's restore. The searchers are the baselines' own Tune searchers
(:class:`~robot_ray.tune.baseline_searcher.PRENASSearcher`,
:class:`~robot_ray.tune.baseline_searcher.SWAPNASSearcher`): the baseline's ``run`` loop, each
query a trial. Budget accounting is the table's: PRE-NAS trains T distinct genotypes; SWAP-NAS
evolves on the cache's metric column (no training) and trains the genotype it returns (1 trial).

Each seed's result is its searcher's state read back from Tune's searcher checkpoint, replayed
through the baseline's ``run`` (:meth:`~robot_ray.tune.baseline_searcher.BaselineSearcher.run_result`),
so the ledger and ``extra`` are exactly what the table version reports.
"""

from __future__ import annotations

from pathlib import Path

from robot_ray.algorithm.ledger import RunResult
from robot_ray.benchmarks.base import Benchmark
from robot_ray.errors import RobotRayError
from robot_ray.metrics.matrix import MetricMatrix

LIVE_BASELINES = ("prenas", "swapnas")
"""Baselines ``robot-ray search --objective live`` runs (the others need a table or a cell space)."""


def run_live_baseline(method: str, benchmark: Benchmark, metrics: MetricMatrix | None, seeds, budget: int, *,
                      objective, trial_resources: dict, out_dir, options: dict | None = None,
                      resume: bool = False, progress: bool = True,
                      max_concurrent_trials: int | None = None) -> list[RunResult]:
    """Run ``method`` for every seed, training each query in a Tune trial; one RunResult per seed.

    Args:
        method: ``"prenas"`` or ``"swapnas"``.
        benchmark: the pool (a :class:`~robot_ray.benchmarks.pool.DartsPool`); names genotypes only.
        metrics: the metric matrix (SWAP-NAS's fitness column; PRE-NAS's with metric features).
        objective: ``arch_id -> Query`` run inside each trial (a LiveObjective).
        trial_resources: per trial, e.g. ``{"cpu": 1}`` or ``{"cpu": 3, "gpu": 1}``.
        out_dir: the search's output directory (Tune's experiment goes to ``OUT/tune/robot``).

    Raises:
        RobotRayError: an unknown method, bad options, failed trials that left a seed unfinished.
        RunInterrupted: the experiment stopped before every seed finished (resume it).
    """
    from ray import tune

    from robot_ray.runs.robot import check_finished, experiment_dir, fit_experiment, newest_searcher_state, run_config
    from robot_ray.tune.baseline_searcher import searcher_class
    from robot_ray.tune.fanout import SeedFanoutSearcher
    from robot_ray.tune.json_state import read_json_state
    from robot_ray.tune.progress import TrialProgress
    from robot_ray.tune.trainables import live_trial

    key = method.replace("-", "_")
    if key not in LIVE_BASELINES:
        raise RobotRayError(f"--objective live runs robot, {', '.join(LIVE_BASELINES)}; not {method}")
    seeds = sorted({int(s) for s in seeds})
    if not seeds:
        raise RobotRayError("no seeds given: pass at least one seed")
    cls = searcher_class(key)
    options = dict(options or {})

    def searcher(seed: int):
        return cls(benchmark, budget, seed, metric="value", mode="max", metrics=metrics, **options)

    out_dir = Path(out_dir)
    trainable = tune.with_resources(tune.with_parameters(live_trial, objective=objective), dict(trial_resources))
    per_seed = 1 if key == "swapnas" else budget
    bar = TrialProgress(total=len(seeds) * per_seed, description="trials", enabled=progress)

    def new_tuner():
        fanout = SeedFanoutSearcher({s: searcher(s) for s in seeds}, metric="value", mode="max")
        return tune.Tuner(
            trainable,
            tune_config=tune.TuneConfig(search_alg=fanout, metric="value", mode="max", num_samples=-1,
                                        reuse_actors=True, max_concurrent_trials=max_concurrent_trials),
            run_config=run_config(out_dir, bar),
        )

    grid = fit_experiment(new_tuner, trainable, bar, out_dir=out_dir, resume=resume)
    state = read_json_state(newest_searcher_state(experiment_dir(out_dir)))
    results, unfinished = [], []
    for s in seeds:
        child = searcher(s)
        child.set_state(state["children"][str(s)])
        result = child.run_result()
        if result is None:
            unfinished.append(s)
        else:
            results.append(result)
    check_finished(unfinished, grid, out_dir)
    return results
