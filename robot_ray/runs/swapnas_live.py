"""SWAP-NAS on the DARTS space computed live: the fitness scored during the search, the answer trained.

``robot-ray search --space darts --objective live --method swapnas --fitness live`` (or
``run_search(..., fitness="live")``). No metric cache: each seed's evolution
(:func:`robot_ray.baselines.swapnas.run_live`, the same loop as on tables) mutates genotypes of the
whole DARTS space and scores them with the metric engine's regularised SWAP
(:class:`robot_ray.metrics.swap_live.SwapScorer`); the genotype it returns is trained with the
DARTS evaluation protocol (:mod:`robot_ray.train.final`, ``jobs/train_final.py``'s core).

**Where it runs.** One Tune experiment at ``OUT/tune/robot`` with one trial per seed
(:func:`robot_ray.tune.trainables.swapnas_live_trial`) on the trial's resources
(``--trial-cpus``/``--trial-gpus``): the evolution and the training both run in that trial, on
its GPU when it has one; seeds run in parallel as far as the cluster holds trials. The evolution
is sequential (each cycle's parent depends on the last cycle's child) and a cycle scores only
M (5) genotypes, a second or less on a GPU, so spreading a cycle over Ray tasks would cost more
in scheduling and network transfer than it saves; the scorer runs where the training will.

**Budget accounting**, the tables': the search queries nothing (``search_queries`` 0), the returned
genotype is the run's one query (its ledger holds it, ``queries`` 1 in ``summary.json``), whatever
``--budget`` is. ``extra`` reports the distinct genotypes scored (``fitness_evaluations``), the
fitness calls (``fitness_calls``, repeats included), the scorer's batches and seconds.

**Resume.** Finished seeds are Tune's finished trials and are not run again. An unfinished trial
restarts from its last Tune checkpoint: the scores so far (every ``checkpoint_every`` cycles;
the evolution is replayed with them and reaches the same genotype, computing only the rest) or
the training's last finished epoch (train_final's checkpoint).

**Ids.** The genotypes are in no pool: a seed's result names them by their position among the
genotypes its search scored, in first-scored order (:class:`robot_ray.benchmarks.genotypes.Genotypes`);
``best_arch_hash`` is the returned genotype's :func:`~robot_ray.spaces.darts.arch_hash`.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from robot_ray.algorithm.ledger import QueryLedger, RunResult
from robot_ray.baselines import swapnas
from robot_ray.benchmarks.base import Query
from robot_ray.benchmarks.genotypes import Genotypes
from robot_ray.errors import RobotRayError
from robot_ray.io.state import float_from_json

FITNESS = ("cache", "live")
"""SWAP-NAS's fitness with ``--objective live``: a column of the pool's metric cache, or live SWAP."""
EVOLUTION_OPTIONS = swapnas.LIVE_OPTIONS
SCORE_OPTIONS = ("score_batch_size", "score_seed", "score_channels", "score_layers", "score_mu", "score_sigma")
OTHER_OPTIONS = ("checkpoint_every",)
OPTIONS = EVOLUTION_OPTIONS + SCORE_OPTIONS + OTHER_OPTIONS
TRAIN_KEYS = {"epochs": "epochs", "batch_size": "batch_size", "lr": "lr", "train_subset": "train_subset"}
"""The live training settings (``--epochs`` ...) that the final training takes, under train_final's names."""
CHECKPOINT_EVERY = 10


@dataclass(frozen=True)
class LivePlan:
    """What each seed's trial does: the evolution's options, the score's settings, the final training's."""

    evolution: dict
    score: dict
    final: dict
    checkpoint_every: int = CHECKPOINT_EVERY
    protocol: str = "train_final"


@dataclass(frozen=True)
class LiveSwapNAS:
    """A prepared live SWAP-NAS search (``PreparedSearch.objective``): the plan and the data it reads."""

    settings: LivePlan
    dataset: str
    seed: int
    cifar_root: str | None = None
    data_dir: str | None = None
    extra: dict = field(default_factory=dict)

    def trial_plan(self) -> dict[str, Any]:
        return {**asdict(self.settings), "data_dir": self.data_dir}


def plan_from(*, dataset: str, train: dict, train_seed: int, cifar_root: str | None, data_dir: str | None,
              options: dict) -> LiveSwapNAS:
    """The plan of a search's settings, checked: unknown options, training settings train_final has not.

    ``train`` holds the live training flags: ``epochs``, ``batch_size``, ``lr``, ``train_subset``
    and ``size`` (``channels``, ``layers``) go to train_final (its defaults where not given: the
    DARTS protocol, 600 epochs, C=36, 20 cells); ``val_fraction`` is refused (train_final trains
    on the whole training split and reports the test split).

    Raises:
        RobotRayError: an unknown option or training setting, bad sizes.
    """
    from robot_ray.metrics.swap_live import SwapScoreSettings
    from robot_ray.train.final import final_settings

    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise RobotRayError(f"swapnas --fitness live got unknown option(s) {', '.join(unknown)}; it accepts "
                            f"{', '.join(OPTIONS)}")
    train = dict(train)
    if "val_fraction" in train:
        raise RobotRayError("--val-fraction does not apply to --fitness live: its final training is the DARTS "
                            "evaluation protocol (jobs/train_final.py), on the whole training split, reporting "
                            "test accuracy; leave it out")
    size = dict(train.pop("size", {}) or {})
    extra = sorted(set(train) - set(TRAIN_KEYS))
    if extra:
        raise RobotRayError(f"--fitness live: training setting(s) {', '.join(extra)} do not apply to train_final")
    evolution = {k: options[k] for k in EVOLUTION_OPTIONS if k in options}
    merged = {**swapnas.LIVE_DEFAULTS, **evolution}
    swapnas.check_sizes(merged["population_size"], merged["cycles"], merged["sample_size"], merged["mutations"],
                merged["remove"], merged["crossover"])
    score = SwapScoreSettings.from_options({k: options[k] for k in SCORE_OPTIONS if k in options})
    score = dataclasses.replace(score, dataset=dataset)
    every = options.get("checkpoint_every", CHECKPOINT_EVERY)
    if isinstance(every, bool) or not isinstance(every, int) or every < 0:
        raise RobotRayError(f"swapnas checkpoint_every must be an int >= 0 (0: no checkpoint during the "
                            f"evolution), got {every!r}")
    fin = final_settings("darts", "<returned genotype>", dataset=dataset, cifar_root=cifar_root,
                         channels=size.get("channels"), layers=size.get("layers"), seed=train_seed,
                         **{TRAIN_KEYS[k]: v for k, v in train.items()})
    fin.pop("arch")
    plan = LivePlan(evolution=evolution, score=asdict(score), final=fin, checkpoint_every=every)
    return LiveSwapNAS(plan, dataset=dataset, seed=train_seed, cifar_root=cifar_root, data_dir=data_dir)


def check_data(search: LiveSwapNAS) -> None:
    """The score's batch and the final training's images load, and the network sizes build, here on
    the driver, before Ray starts a trial (a missing data directory fails now, not in every trial)."""
    from robot_ray.images import load_batch
    from robot_ray.networks import check_size
    from robot_ray.train import data as tdata

    s, f = search.settings.score, search.settings.final
    check_size({"channels": f["channels"], "layers": f["layers"]}, flags={"channels": "--channels",
                                                                         "layers": "--layers"})
    load_batch(s["dataset"], search.data_dir, s["batch_size"], s["seed"])
    tdata.load_dataset(f["dataset"], data_dir=search.data_dir, cifar_root=f["cifar_root"])


def run_swapnas_live(search: LiveSwapNAS, seeds, *, trial_resources: dict, out_dir, resume: bool = False,
                     progress: bool = True, max_concurrent_trials: int | None = None) -> list[RunResult]:
    """Every seed's live SWAP-NAS as one Tune trial (search, then train_final); one RunResult per seed.

    Raises:
        RobotRayError: a trial failed and left its seed unfinished.
        RunInterrupted: the experiment stopped before every seed finished (resume it).
    """
    from ray import tune

    from robot_ray.runs.robot import check_finished, fit_experiment, run_config
    from robot_ray.tune.progress import TrialProgress
    from robot_ray.tune.trainables import swapnas_live_trial

    seeds = sorted({int(s) for s in seeds})
    if not seeds:
        raise RobotRayError("no seeds given: pass at least one seed")
    out_dir = Path(out_dir)
    trainable = tune.with_resources(tune.with_parameters(swapnas_live_trial, plan=search.trial_plan()),
                                    dict(trial_resources))
    bar = TrialProgress(total=len(seeds), description="seeds", enabled=progress)

    def new_tuner():
        config = dataclasses.replace(run_config(out_dir, bar),
                                     checkpoint_config=tune.CheckpointConfig(num_to_keep=1))
        return tune.Tuner(
            trainable, param_space={"seed": tune.grid_search(seeds)},
            tune_config=tune.TuneConfig(reuse_actors=False, max_concurrent_trials=max_concurrent_trials),
            run_config=config,
        )

    # each epoch's checkpoint forces a snapshot of the experiment (num_to_keep=1): fine for epochs of minutes;
    # on toy runs Tune warns every few seconds, on stderr, about the cost of what this search asks for
    key = "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S"
    before = os.environ.get(key)
    os.environ.setdefault(key, "0")
    try:  # for this experiment only: a later search in the same process gets Tune's warning back
        grid = fit_experiment(new_tuner, trainable, bar, out_dir=out_dir, resume=resume)
    finally:
        if before is None:
            os.environ.pop(key, None)
    results = {}
    for r in grid:
        if r.error is None and r.metrics and r.metrics.get("phase") == "done":
            results[int(r.metrics["seed"])] = result_of(r.metrics, search.dataset)
    check_finished([s for s in seeds if s not in results], grid, out_dir)
    return [results[s] for s in seeds]


def result_of(metrics: dict[str, Any], dataset: str) -> RunResult:
    """A finished trial's last report as the run's result: one query, the returned genotype."""
    record = json.loads(metrics["result"])
    hashes = record.pop("hashes")
    record.pop("scores")  # every scored genotype's fitness: in the trial's result, too long for summary.json
    genotypes = Genotypes(hashes, dataset)
    best = hashes.index(record["best_arch_hash"])
    ledger = QueryLedger(genotypes, 1)
    ledger.record(best, Query(float_from_json(metrics["value"]), float_from_json(metrics["test_value"]),
                              float_from_json(metrics["cost"])), stage="swapnas")
    record["best_fitness"] = float_from_json(record["best_fitness"])
    return RunResult(seed=int(metrics["seed"]), ledger=ledger, extra=record)
