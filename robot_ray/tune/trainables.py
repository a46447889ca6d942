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
from robot_ray.errors import RobotRayError

VALUE = "value"


def report_query(answer: Query, **extra: Any) -> None:
    tune.report({VALUE: answer.value, "test_value": answer.test_value, "cost": answer.cost, **extra})


def table_trial(config: dict[str, Any], *, benchmark: Benchmark) -> None:
    """A benchmark-table query (NB201, TNB101, NB301-725)."""
    report_query(benchmark.query(int(config["arch_id"])))


def live_trial(config: dict[str, Any], *, objective: Callable[[int], Query]) -> None:
    """Train the architecture here (``objective(arch_id) -> Query``, e.g. :class:`robot_ray.train.LiveObjective`).

    An objective with ``query_arch`` (LiveObjective) trains ``config["arch"]`` itself, so it also
    takes archs the searcher generated (PRE-NAS's DARTS children), and starts from
    ``config["parent_arch"]``'s weights when the search passes one.
    """
    query_arch = getattr(objective, "query_arch", None)
    if query_arch is None or "arch" not in config:
        report_query(objective(int(config["arch_id"])))
        return
    answer = query_arch(config["arch"], parent_arch=config.get("parent_arch"), lineage=config.get("lineage"))
    extra = {} if answer.inherited is None else {"inherited_fraction": answer.inherited}
    if "epochs" in getattr(objective, "last_info", {}):
        extra["epochs"] = objective.last_info["epochs"]
    report_query(answer, **extra)


SWAPNAS_STATE = "swapnas_live.json"
SWAPNAS_STATE_VERSION = 1


def swapnas_live_trial(config: dict[str, Any], *, plan: dict[str, Any]) -> None:
    """One seed of a live SWAP-NAS search (:mod:`robot_ray.runs.swapnas_live`), on this trial's resources.

    1. The evolution (:func:`robot_ray.baselines.swapnas.run_live`) scores its genotypes here with
       :class:`robot_ray.metrics.swap_live.SwapScorer`, each cycle's mutants one batch, on the
       trial's GPU when it has one. Every ``plan["checkpoint_every"]`` cycles the scores so far go
       to a Tune checkpoint; a restored trial replays the evolution with them, computing only the
       genotypes not scored yet, and reaches the same genotype.
    2. The returned genotype is trained with the DARTS evaluation protocol
       (:func:`robot_ray.train.final.run`, ``plan["final"]``), a Tune checkpoint after every epoch;
       a restored trial continues from the last finished epoch.

    Reports ``phase`` while it runs; the last report has ``value`` and ``test_value`` (the final
    test accuracy, %), ``cost`` (training seconds) and ``result`` (the search's JSON record).
    """
    import json
    import shutil
    import tempfile
    import time
    from pathlib import Path

    import ray

    from robot_ray.baselines import swapnas
    from robot_ray.io.atomic import atomic_write_json
    from robot_ray.io.state import check_version, json_float
    from robot_ray.metrics.swap_live import SwapScorer, SwapScoreSettings
    from robot_ray.spaces import darts
    from robot_ray.train import final

    seed = int(config["seed"])
    device = "cuda" if ray.get_gpu_ids() else "cpu"
    work = Path(tempfile.mkdtemp(prefix=f"swapnas_live_seed{seed}_"))
    try:  # the trial's scratch files: what must survive is in its Tune checkpoints
        state: dict[str, Any] = {"version": SWAPNAS_STATE_VERSION, "seed": seed, "scores": {}, "search": None}
        checkpoint = tune.get_checkpoint()
        if checkpoint is not None:
            with checkpoint.as_directory() as saved:
                shutil.copytree(saved, work, dirs_exist_ok=True)
            state = json.loads((work / SWAPNAS_STATE).read_text())
            check_version(state, kind="live SWAP-NAS trial state", supported=(SWAPNAS_STATE_VERSION,),
                          source=work / SWAPNAS_STATE, hint="start a new search with another --out")
            if state["seed"] != seed:
                raise RobotRayError(f"the checkpoint restored into seed {seed}'s trial is seed {state['seed']}'s: "
                                    "resume the search with its own --out")

        def save(metrics: dict[str, Any]) -> None:
            atomic_write_json(work / SWAPNAS_STATE, state)
            tune.report({"seed": seed, **metrics}, checkpoint=tune.Checkpoint.from_directory(str(work)))

        if state["search"] is None:
            scorer = SwapScorer(SwapScoreSettings(**plan["score"]), data_dir=plan["data_dir"], device=device)
            every = int(plan.get("checkpoint_every") or 0)
            started = time.perf_counter()

            def after_cycle(cycle: int, memo) -> None:
                if every and (cycle + 1) % every == 0:
                    state["scores"] = {h: json_float(v) for h, v in memo.scores.items()}
                    save({"phase": "evolve", "cycle": cycle + 1, "scored": len(memo.scores)})

            found = swapnas.run_live(scorer, seed, known=state["scores"], after_cycle=after_cycle, **plan["evolution"])
            state["search"] = {
                **found.extra(), "fitness_computed": found.computed, "children": found.children,
                "one_edge_children": found.one_edge_children, "search_seconds": time.perf_counter() - started,
                "scorer_seconds": scorer.seconds, "search_device": device,
                "hashes": found.hashes, "scores": [json_float(v) for v in found.scores],
            }
            state["search"]["best_fitness"] = json_float(found.best_fitness)
            state["scores"] = {}
            save({"phase": "searched", "scored": len(found.hashes)})
        arch = darts.format_genotype(darts.from_hash(state["search"]["best_arch_hash"]))
        settings = {**plan["final"], "arch": arch, "data_dir": plan["data_dir"]}
        trained = final.run(settings, work / "final", device=device, log=lambda line: None,
                            on_epoch=lambda row: save({"phase": "train", "epoch": row["epoch"]}))
        record = {**state["search"], "final_epochs": trained["epochs"], "final_device": trained["device"]}
        tune.report({"seed": seed, "phase": "done", "value": trained["test_acc"], "test_value": trained["test_acc"],
                     "cost": float(sum(row["seconds"] for row in trained["history"])), "result": json.dumps(record)})
    finally:
        shutil.rmtree(work, ignore_errors=True)
