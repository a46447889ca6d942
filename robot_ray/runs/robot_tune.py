"""RoBoT on Ray: the BO stage as one Tune experiment over all seeds, then one greedy task per seed.

Data flow: the driver puts the normalised metric matrix X in the object store once; a ledger
actor books every query; Tune trials (one per BO proposal, seeds interleaved by
:class:`SeedFanoutSearcher`) induce a(w) and evaluate it; then a greedy Ray task per seed
spends the rest of the budget along the ranking of its best weight vector. The ledgers are
saved to ``OUT/ledgers.json`` after each stage and Tune checkpoints the searcher, so
``resume`` continues an interrupted search.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import ray
from ray import tune
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from robot_ray.benchmarks.base import Benchmark, Query
from robot_ray.metrics.matrix import MetricMatrix
from robot_ray.tune.weight_searcher import AxWeightSearcher
from robot_ray.tune.fanout import SeedFanoutSearcher
from robot_ray.tune.greedy import greedy_stage
from robot_ray.algorithm.ledger import QueryLedger
from robot_ray.tune.ledger_actor import LedgerActor, SearchLedgers
from robot_ray.runs.loop import check_pool, default_rounds
from robot_ray.algorithm.induced import InducedArchs
from robot_ray.algorithm.induced import register as register_pool
from robot_ray.tune.progress import TrialProgress
from robot_ray.algorithm.ledger import RunResult
from robot_ray.tune.trial import robot_trial

logger = logging.getLogger(__name__)

LEDGERS = "ledgers.json"
TUNE_DIR = "tune"
EXPERIMENT = "robot_bo"


@dataclass(frozen=True)
class RayRobotConfig:
    """Settings of a distributed RoBoT search (the CLI and job scripts only build this).

    Attributes:
        budget: T, distinct queried architectures per seed.
        bo_rounds: BO proposals per seed (None: T-1, as in the paper).
        init_trials: quasi-random proposals before the GP.
        acquisition: ``"ucb"`` (the paper's GP-UCB) or ``"logei"``.
        initial: ``"corners"`` (each metric alone first) or ``"sobol"`` (the paper's start).
        repeats: ``"novel"`` (a proposal repeating a queried architecture is replaced by one that
            induces a new architecture) or ``"keep"`` (the paper's rule); see AxWeightSearcher.
        per_seed_concurrency: BO trials of one seed in flight (1 = sequential BO).
        trial_resources: Tune resources per trial, e.g. ``{"cpu": 0.25}`` for a table lookup or
            ``{"cpu": 1, "gpu": 1}`` to train on the trial's GPU.
        max_concurrent_trials: cap over all seeds (None: Tune's default, bounded by resources).
    """

    budget: int = 20
    bo_rounds: int | None = None
    init_trials: int = 1
    acquisition: str = "ucb"
    repeats: str = "novel"
    initial: str = "corners"
    per_seed_concurrency: int = 1
    trial_resources: dict = field(default_factory=lambda: {"cpu": 0.25})
    max_concurrent_trials: int | None = None


def _results_from(ledgers: SearchLedgers, seeds: list[int], names: list[str]) -> list[RunResult]:
    runs = []
    for s in seeds:
        ledger: QueryLedger = ledgers.ledgers[s]
        t0 = sum(1 for r in ledger.records if r.stage == "explore")
        best = ledgers.best(s).as_dict(names)
        runs.append(RunResult(seed=s, ledger=ledger, t0=t0, best_weights=best))
    return runs


def run_robot_ray(
    benchmark: Benchmark,
    metrics: MetricMatrix,
    seeds: list[int],
    config: RayRobotConfig,
    *,
    out_dir: str | os.PathLike,
    objective: Callable[[int], Query] | None = None,
    progress: bool = True,
    resume: bool = False,
) -> list[RunResult]:
    """Run RoBoT for every seed on the connected Ray cluster (``ray.init`` first).

    Args:
        benchmark: answers queries (a table) and names archs; with ``objective`` it only names them.
        metrics: the normalised metric matrix over the pool.
        seeds: one independent run each.
        objective: a live objective ``arch_id -> Query`` run inside trials/tasks; None = table.
        out_dir: where ``ledgers.json`` and Tune's experiment directory go.
        resume: continue the experiment found in ``out_dir``.
    """
    if not ray.is_initialized():
        raise RuntimeError("call ray.init() (or robot_ray.cluster.connect) before run_robot_ray")
    check_pool(benchmark, metrics, config.budget)
    rounds = default_rounds(config.budget, config.bo_rounds)
    names = list(metrics.names)
    seeds = sorted(int(s) for s in seeds)
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    ledger_file = out / LEDGERS

    state = None
    if resume and ledger_file.exists():
        with open(ledger_file) as f:
            state = json.load(f)
    # pinned to this (the driver's) node, so the ledger file it writes after every change is local
    here = NodeAffinitySchedulingStrategy(node_id=ray.get_runtime_context().get_node_id(), soft=False)
    ledger = LedgerActor.options(scheduling_strategy=here).remote(
        benchmark, config.budget, seeds, state, str(ledger_file)
    )
    # the searchers (in this process) screen proposals against the pool; a restored experiment
    # finds it again by fingerprint
    pool = InducedArchs(metrics.values, metrics.arch_ids)
    register_pool(pool)
    X_ref = ray.put(metrics.values)
    ids_ref = ray.put(metrics.arch_ids)
    trainable = tune.with_parameters(
        robot_trial, X=X_ref, arch_ids=ids_ref, names=names, ledger=ledger, objective=objective
    )
    trainable = tune.with_resources(trainable, dict(config.trial_resources))
    tune_dir = out / TUNE_DIR
    exp_dir = tune_dir / EXPERIMENT

    # our own progress bar replaces Tune's console output (its config box, TensorBoard hints)
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    bar = TrialProgress(total=len(seeds) * rounds, description="BO proposals", enabled=progress)
    if resume and tune.Tuner.can_restore(str(exp_dir)):
        tuner = tune.Tuner.restore(str(exp_dir), trainable=trainable, resume_errored=True, restart_errored=False)
    else:
        children = {
            s: AxWeightSearcher(
                names, metric="value", mode="max", seed=s, max_proposals=rounds,
                init_trials=config.init_trials, acquisition=config.acquisition, pool=pool,
                repeats=config.repeats, initial=config.initial,
            )
            for s in seeds
        }
        searcher = SeedFanoutSearcher(
            children, per_seed_concurrency=config.per_seed_concurrency, metric="value", mode="max"
        )
        tuner = tune.Tuner(
            trainable,
            tune_config=tune.TuneConfig(
                search_alg=searcher,
                metric="value",
                mode="max",
                num_samples=len(seeds) * rounds,
                reuse_actors=True,
                max_concurrent_trials=config.max_concurrent_trials,
            ),
            run_config=tune.RunConfig(
                name=EXPERIMENT,
                storage_path=str(tune_dir),
                verbose=0,
                callbacks=[bar],
                log_to_file=False,
                # a trial lost with its node is retried; the ledger answers a re-run from its cache
                failure_config=tune.FailureConfig(max_failures=3),
            ),
        )
    with bar:
        grid = tuner.fit()
    errors = [r.error for r in grid if r.error is not None]
    if errors:
        raise RuntimeError(f"{len(errors)} BO trial(s) failed; first error: {errors[0]}")
    # exploitation: one task per seed, concurrently; a resumed run continues where it stopped
    # live greedy evaluations reserve what a BO trial does (its GPU included), not a bare CPU task
    eval_resources = None
    if objective is not None:
        eval_resources = {"num_cpus": config.trial_resources.get("cpu", 1), "num_gpus": config.trial_resources.get("gpu", 0)}
    refs = [greedy_stage.remote(X_ref, ids_ref, ledger, s, config.budget, objective, eval_resources) for s in seeds]
    ray.get(refs)
    state = ray.get(ledger.export.remote())
    ray.kill(ledger)
    return _results_from(SearchLedgers(benchmark, config.budget, seeds, state), seeds, names)
