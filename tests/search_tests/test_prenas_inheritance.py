"""PRE-NAS with weight inheritance: the lineage a query carries, DARTS children that are true op-only
mutants in a growing pool, the same run as a Tune searcher (configs, restore, replay), and a live
DARTS search through the CLI that keeps and inherits weights."""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from ray.tune.search import Searcher

from robot_ray.baselines import prenas
from robot_ray.benchmarks import get_benchmark
from robot_ray.benchmarks.base import Query
from robot_ray.benchmarks.pool import DartsPool, GrowingPool, TrainedPool
from robot_ray.cli import main
from robot_ray.spaces import darts
from robot_ray.tune.baseline_searcher import PRENASSearcher

POOL = 40
OPTIONS = {"init_samples": 4, "population_size": 4, "offspring": 12, "evaluated_per_gen": 2}


class Recorder:
    """A stand-in for LiveObjective: a value from the genotype's hash, and every query's context kept."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def query_arch(self, arch, *, parent_arch=None, lineage=None) -> Query:
        self.calls.append({"arch": arch, "parent_arch": parent_arch, "lineage": lineage})
        return Query(answer(arch), math.nan, 1.0, None if parent_arch is None else 0.9)


def answer(arch: str) -> float:
    return int(hashlib.sha256(darts.canonical(arch).encode()).hexdigest()[:6], 16) / 2**24 * 100


@pytest.fixture(scope="module")
def pool() -> DartsPool:
    return DartsPool(darts.sample_codes(np.random.default_rng(5), POOL))


def test_on_a_table_the_lineage_changes_nothing(data_dir):
    bench = get_benchmark("nb201", "cifar10", str(data_dir))
    plain = prenas.run(bench, 30, 4)
    inheriting = prenas.run(bench, 30, 4, inherit=True)
    assert [r.arch_id for r in plain.ledger.records] == [r.arch_id for r in inheriting.ledger.records]
    assert inheriting.extra["children_with_parent"] == 30 - 10  # every child after the 10 random ones
    assert inheriting.extra["inherited_children"] == 0  # a table trains nothing, so nothing is inherited


def test_darts_children_are_op_only_mutants_of_a_trained_parent(pool):
    objective = Recorder()
    result = prenas.run(TrainedPool(pool, objective), 12, 3, inherit=True, **OPTIONS)
    assert result.extra["mutation"] == "darts-op-only" and result.extra["grown_genotypes"] > 0
    assert result.extra["same_topology_children"] == result.extra["children"]
    assert len(objective.calls) == 12 and {c["lineage"] for c in objective.calls} == {"prenas-seed3"}
    trained: list[str] = []
    for call in objective.calls:
        if call["parent_arch"] is not None:
            assert call["parent_arch"] in trained  # the parent was trained (its weights are kept) before
            child, parent = darts.encode(call["arch"]), darts.encode(call["parent_arch"])
            assert (child[0::2] == parent[0::2]).all() and (child[1::2] != parent[1::2]).any()
        trained.append(darts.canonical(call["arch"]))
    assert sum(c["parent_arch"] is not None for c in objective.calls) == result.extra["children_with_parent"] == 8
    assert result.extra["inherited_children"] == 8
    records = result.ledger.records
    assert any(r.arch_id >= POOL for r in records)  # grown ids continue after the pool's
    assert [darts.canonical(r.arch) for r in records] == trained
    again = prenas.run(TrainedPool(pool, Recorder()), 12, 3, inherit=True, **OPTIONS)
    assert [r.arch for r in again.ledger.records] == [r.arch for r in records]


def test_growing_pool_ids():
    base = DartsPool(darts.sample_codes(np.random.default_rng(1), 5))
    grown = GrowingPool(base)
    extra = darts.sample_codes(np.random.default_rng(2), 3)
    ids = grown.add(np.vstack([base.codes[3], extra, extra[1]]))
    assert ids.tolist() == [3, 5, 6, 7, 6] and grown.num_archs == 8 and grown.grown == 3
    assert grown.arch(6) == darts.format_genotype(darts.decode(extra[1]))
    assert grown.arch_id(grown.arch(7)) == 7 and grown.arch_id(base.arch(2)) == 2
    with pytest.raises(Exception, match="not in this pool"):
        grown.arch_id(darts.format_genotype(darts.decode(darts.sample_codes(np.random.default_rng(9), 1)[0])))


def _drive(searcher, results=None, start=0) -> list[dict]:
    configs = []
    i = start
    while results is None or len(configs) < results:
        config = searcher.suggest(f"t{i}")
        if config == Searcher.FINISHED:
            break
        configs.append(config)
        result = {"value": answer(config["arch"]), "cost": 1.0}
        if "parent_arch" in config:
            result["inherited_fraction"] = 0.9
        searcher.on_trial_complete(f"t{i}", result)
        i += 1
    return configs


def test_searcher_hands_children_and_parents_to_the_trials_and_restores(pool):
    plain = prenas.run(TrainedPool(pool, Recorder()), 12, 3, inherit=True, **OPTIONS)
    searcher = PRENASSearcher(pool, 12, 3, metric="value", mode="max", inherit=True, **OPTIONS)
    first = _drive(searcher, results=7)
    restored = PRENASSearcher(pool, 12, 3, metric="value", mode="max", inherit=True, **OPTIONS)
    restored.set_state(json.loads(json.dumps(searcher.get_state())))
    configs = first + _drive(restored, start=7)
    assert [c["arch"] for c in configs] == [r.arch for r in plain.ledger.records]
    assert [c["arch_id"] for c in configs] == [r.arch_id for r in plain.ledger.records]
    children = [c for c in configs if "parent_arch" in c]
    assert len(children) == plain.extra["children_with_parent"] and all(c["lineage"] == "prenas-seed3" for c in configs)
    assert restored.get_state()["records"][7].get("inherited") == (0.9 if "parent_arch" in configs[7] else None)
    assert [h["arch"] for h in restored.history()] == [c["arch"] for c in configs]
    assert restored.best()["arch"] == max(configs, key=lambda c: answer(c["arch"]))["arch"]
    replayed = restored.run_result()
    assert [r.arch for r in replayed.ledger.records] == [r.arch for r in plain.ledger.records]
    assert replayed.extra == plain.extra


@pytest.mark.slow
def test_live_darts_prenas_inherits_weights(tmp_path, data_dir, ray_session, torch_one_thread):
    import robot_ray

    cache, out = tmp_path / "cache", tmp_path / "out"
    result = CliRunner().invoke(main, [
        "precompute", "--space", "darts", "--dataset", "cifar10", "--data-dir", str(data_dir), "--metrics", "params",
        "--archs", "sample:12:0", "--channels", "4", "--cells", "3", "--out", str(cache), "--quiet",
    ])
    assert result.exit_code == 0, result.output
    summary = robot_ray.run_search(
        space="darts", dataset="cifar10", cache=str(cache), data_dir=str(data_dir), objective="live",
        method="prenas", metrics=("params",), budget=4, seeds=(0,), trial_resources={"cpu": 1}, out=str(out),
        train={"epochs": 1, "inherit_epochs": 2, "batch_size": 32, "train_subset": 96,
               "size": {"channels": 4, "layers": 3}},
        method_options={"inherit": True, "init_samples": 2, "population_size": 2, "offspring": 8,
                        "evaluated_per_gen": 1},
        progress=False,
    )
    run = summary["runs"][0]
    assert run["mutation"] == "darts-op-only" and run["grown_genotypes"] >= 2
    # both children were sent with a parent and really trained from its kept weights (the trial said so)
    assert run["children_with_parent"] == run["inherited_children"] == 2
    traj = pd.read_parquet(out / "trajectory.parquet")
    assert len(traj) == 4 and traj["arch"].nunique() == 4 and (traj["arch_id"] >= 12).sum() == 2
    kept = sorted((out / "weights" / "prenas-seed0").glob("darts-*.pt"))
    assert len(kept) == 4  # every trained genotype's weights, for later children
    assert summary["training"]["inherit_epochs"] == 2


def test_an_objective_without_query_arch_cannot_take_generated_children(pool):
    def by_id(arch_id):
        return Query(1.0, 1.0, 1.0)

    with pytest.raises(Exception, match="needs an objective with query_arch"):
        prenas.run(TrainedPool(pool, by_id), 12, 3, inherit=True, **OPTIONS)


def test_inherit_option_is_refused_on_a_table_search(tmp_path):
    result = CliRunner().invoke(main, ["search", "--method", "prenas", "--option", "inherit=True", "--seeds", "0",
                                       "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "PRE-NAS's weight inheritance" in result.output, result.output


@pytest.mark.parametrize("flags, message", [
    (["--method", "rea"], "--inherit-weights is PRE-NAS's weight inheritance"),
    (["--method", "prenas", "--objective", "robot"], "--inherit-weights is PRE-NAS's weight inheritance"),
])
def test_inherit_flags_refused_where_they_do_nothing(flags, message, tmp_path):
    result = CliRunner().invoke(main, ["search", "--space", "nb201", "--inherit-weights", *flags,
                                       "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and message in result.output, result.output


def test_inherit_epochs_needs_inherit_weights(tmp_path):
    result = CliRunner().invoke(main, ["search", "--method", "prenas", "--inherit-epochs", "2",
                                       "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "add --inherit-weights" in result.output, result.output


def test_resume_compares_the_inherit_flags(tmp_path):
    import dataclasses

    from robot_ray.runs.search import SearchConfig, save_config

    out = tmp_path / "run"
    out.mkdir(mode=0o700)
    config = SearchConfig(space="darts", cache=str(tmp_path), objective="live", method="prenas", out=str(out),
                          seeds=(0,), train={"epochs": 1, "inherit_epochs": 2}, method_options={"inherit": True})
    save_config(config)
    runner = CliRunner()
    differ = runner.invoke(main, ["search", "--resume", str(out), "--inherit-epochs", "3"])
    assert differ.exit_code == 2 and "--inherit-epochs 3 (recorded: train" in differ.output, differ.output
    save_config(dataclasses.replace(config, method_options={}))
    differ = runner.invoke(main, ["search", "--resume", str(out), "--inherit-weights"])
    assert differ.exit_code == 2 and "--inherit-weights (recorded: method_options" in differ.output, differ.output
