"""SWAP-NAS with a live fitness over the whole DARTS space (``--fitness live``), and the one evolution
it shares with the matrix version.

* the live scorer is the metric engine's ``swap_reg`` (same genotypes, batch, seed, size, mu, sigma);
* children are true one-edge mutants of the whole space, valid and canonical, each genotype scored
  once, each cycle's mutants one batch; a run given earlier scores replays to the same answer;
* the matrix version (tables, pools) still returns what it returned before the loop was shared;
* slow: a toy CPU run through Ray Tune (CLI and ``run_search``) trains exactly one genotype per seed
  with train_final, needs no cache, and a resume after SIGTERM reaches the same answer.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from robot_ray.baselines import swapnas
from robot_ray.cli import main
from robot_ray.errors import RobotRayError
from robot_ray.spaces import darts

SIZE = {"score_channels": 8, "score_layers": 5}  # at C=4, 3 cells SWAP hardly varies over genotypes


# -- the scorer ---------------------------------------------------------------------------------------------------
def test_live_score_is_the_engines_swap_reg(data_dir, torch_one_thread):
    from robot_ray.metrics.compute import compute_archs
    from robot_ray.metrics.swap_live import SwapScorer, SwapScoreSettings

    codes = darts.sample_codes(np.random.default_rng(7), 4)
    settings = SwapScoreSettings(seed=3, channels=8, layers=5, mu=300.0, sigma=2e4)
    scorer = SwapScorer(settings, data_dir=data_dir)
    live = scorer(codes)
    from robot_ray.metrics.catalog import swap_reg_metric
    from robot_ray.metrics.registry import MetricRegistry

    engine = compute_archs("darts", darts.strings(codes), dataset="cifar10", metrics=["swap_reg"], batch_size=16,
                           seed=3, data_dir=data_dir, size={"channels": 8, "layers": 5},
                           registry=MetricRegistry([swap_reg_metric(300.0, 2e4)]))["swap_reg"].to_numpy()
    assert np.all(np.isfinite(live)) and len(np.unique(live)) == 4
    np.testing.assert_array_equal(live, engine)
    assert scorer.genotypes == 4 and scorer.seconds > 0
    # the registry's defaults are what the cache's swap_reg column holds
    default = SwapScorer(SwapScoreSettings(channels=8, layers=5), data_dir=data_dir)(codes[:2])
    cache_like = compute_archs("darts", darts.strings(codes[:2]), dataset="cifar10", metrics=["swap_reg"],
                               batch_size=16, seed=0, data_dir=data_dir, size={"channels": 8, "layers": 5})
    np.testing.assert_array_equal(default, cache_like["swap_reg"].to_numpy())


def test_score_settings_are_checked():
    from robot_ray.metrics.swap_live import SwapScoreSettings

    with pytest.raises(RobotRayError, match="layers must be at least 3"):
        SwapScoreSettings(layers=2)
    with pytest.raises(RobotRayError, match="sigma > 0"):
        SwapScoreSettings(sigma=0.0)
    with pytest.raises(RobotRayError, match="unknown live SWAP score option"):
        SwapScoreSettings.from_options({"score_depth": 3})
    assert SwapScoreSettings.from_options({"score_layers": 5}).layers == 5


# -- the moves ----------------------------------------------------------------------------------------------------
def test_children_are_one_edge_mutants_of_the_whole_space():
    rng = np.random.default_rng(0)
    parents = darts.sample_codes(rng, 20)
    changed_inputs = changed_ops = 0
    for parent in parents:
        kids = swapnas.mutate_codes(parent, rng, 50)
        assert kids.dtype == np.int8 and kids.shape == (50, darts.CODE_LENGTH)
        np.testing.assert_array_equal(kids, darts.canonicalize_codes(kids))  # canonical
        for kid in kids:
            darts.decode(kid)  # valid: ops known, inputs in range
            inputs = kid.reshape(2, 4, 2, 2)[..., 0]
            assert (inputs[..., 0] != inputs[..., 1]).all()  # a node's two inputs stay distinct
            assert swapnas.edge_distance(parent, kid) == 1  # exactly one edge changed
            assert darts.arch_hash(darts.decode(kid)) != darts.arch_hash(darts.decode(parent))
            p_in = np.sort(parent.reshape(8, 2, 2)[..., 0], axis=1)
            k_in = np.sort(kid.reshape(8, 2, 2)[..., 0], axis=1)
            changed_inputs += int((p_in != k_in).any())
            changed_ops += int((p_in == k_in).all())
    assert changed_inputs > 300 and changed_ops > 300  # both kinds of move, about half each
    # not drawn from a pool: almost every child is new to a sample of 10^4 genotypes
    pool = set(darts.codes_hashes(darts.sample_codes(np.random.default_rng(1), 10_000)).tolist())
    kids = swapnas.mutate_codes(parents[0], rng, 30)
    assert not set(darts.codes_hashes(kids).tolist()) & pool


def test_crossover_takes_whole_nodes_from_either_parent():
    rng = np.random.default_rng(2)
    a, b = darts.sample_codes(rng, 2)
    nodes = lambda c: {tuple(n.ravel()) for n in c.reshape(8, 4)}  # noqa: E731 (cell, node) edge pairs
    for _ in range(20):
        child = swapnas.cross_codes(a, b, rng)
        darts.decode(child)
        per_node = zip(child.reshape(8, 4), a.reshape(8, 4), b.reshape(8, 4))
        assert all((c == x).all() or (c == y).all() for c, x, y in per_node)
    assert nodes(child) <= nodes(a) | nodes(b)


# -- the evolution ------------------------------------------------------------------------------------------------
class Counting:
    """A deterministic toy fitness (sum of the code) that records every batch it is asked."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def __call__(self, codes: np.ndarray) -> np.ndarray:
        self.batches.append(darts.codes_hashes(codes).tolist())
        return np.asarray(codes, dtype=np.float64) @ np.arange(1, darts.CODE_LENGTH + 1)


def test_live_evolution_scores_each_genotype_once_and_each_cycle_as_one_batch():
    score = Counting()
    found = swapnas.run_live(score, 4, population_size=10, cycles=30, sample_size=4, mutations=5)
    asked = [h for batch in score.batches for h in batch]
    assert len(asked) == len(set(asked)) == len(found.hashes)  # each genotype scored once
    assert len(score.batches) == found.batches <= 31 and all(len(b) <= 5 for b in score.batches[1:])
    assert len(score.batches[0]) == 10  # the initial population, one batch
    assert found.calls == 10 + 30 * 5 and found.children == 150 and found.one_edge_children == 150
    extra = found.extra()
    assert extra["fitness_evaluations"] == len(found.hashes) and extra["fitness_calls"] == 160
    assert extra["search_queries"] == 0 and extra["best_arch_hash"] == found.best_hash
    assert found.best_fitness == max(found.scores) and darts.arch_hash(darts.decode(found.best_code)) == found.best_hash
    assert swapnas.run_live(Counting(), 4, population_size=10, cycles=30, sample_size=4, mutations=5).hashes == found.hashes
    assert swapnas.run_live(Counting(), 5, population_size=10, cycles=30, sample_size=4, mutations=5).hashes != found.hashes


def test_known_scores_replay_the_same_search_without_recomputing():
    full = swapnas.run_live(Counting(), 1, population_size=8, cycles=20, mutations=4, crossover=True)
    half = dict(zip(full.hashes[: len(full.hashes) // 2], full.scores[: len(full.hashes) // 2]))
    score = Counting()
    again = swapnas.run_live(score, 1, population_size=8, cycles=20, mutations=4, crossover=True, known=half)
    assert again.hashes == full.hashes and again.best_hash == full.best_hash and again.calls == full.calls
    assert again.computed == len(full.hashes) - len(half) == sum(len(b) for b in score.batches)


def test_nan_scores_rank_last_and_options_are_checked():
    def score(codes):
        values = np.arange(len(codes), dtype=np.float64)
        values[0] = np.nan
        return values

    found = swapnas.run_live(score, 0, population_size=6, cycles=3, mutations=2)
    assert math.isfinite(found.best_fitness)
    with pytest.raises(RobotRayError, match="unknown option"):
        swapnas.run_live(score, 0, generations=3)
    with pytest.raises(RobotRayError, match="sizes must be ints"):
        swapnas.run_live(score, 0, mutations=0)


# the matrix version, unchanged by the shared loop: what it returned before (commit 4332001)
BEFORE = {  # case/seed -> (returned arch id, distinct archs scored, fitness calls, fitness column)
    ("full", 0): (14417, 248, 1050, "nwot"), ("full", 1): (14417, 241, 1050, "nwot"),
    ("full_x", 2): (14417, 344, 1050, "nwot"), ("full_old", 3): (12491, 185, 200, "synflow"),
    ("part_mu", 2): (4321, 69, 1050, "swap_reg"), ("nb301", 0): (369, 60, 1050, "nwot"),
    ("nb301", 3): (502, 65, 1050, "nwot"),
}


def test_matrix_runs_return_what_they_returned_before(data_dir):
    from robot_ray.benchmarks import get_benchmark
    from robot_ray.benchmarks.nb301 import metric_table
    from robot_ray.metric_sources import load_metrics
    from robot_ray.metrics.matrix import read_metric_table

    nb201 = get_benchmark("nb201", "cifar10", data_dir)
    ref = read_metric_table(data_dir / "nasbench201" / "reference_metrics.parquet", ["synflow", "snip", "nwot", "zen"],
                            dataset="cifar10", num_archs=nb201.num_archs)
    swap = load_metrics("nb201", ["nwot", "swap_reg", "params"], dataset="cifar10", data_dir=data_dir,
                        cache=Path(__file__).resolve().parents[2] / "docs/results/metrics_agreement/cifar10")
    nb301 = get_benchmark("darts", "cifar10", data_dir)
    table = read_metric_table(metric_table(data_dir), ["nwot", "params", "synflow"], dataset="cifar10",
                              num_archs=nb301.num_archs)
    cases = {"full": (nb201, ref, {"fitness_metric": "nwot"}),
             "full_x": (nb201, ref, {"crossover": True, "fitness_metric": "nwot"}),
             "full_old": (nb201, ref, {"remove": "oldest", "cycles": 50, "mutations": 3, "sample_size": 4}),
             "part_mu": (nb201, swap, {"mu": 0.0, "sigma": 0.01}), "nb301": (nb301, table, {})}
    for (case, seed), (arch, distinct, calls, column) in BEFORE.items():
        bench, matrix, options = cases[case]
        result = swapnas.run(bench, 20, seed, metrics=matrix, **options)
        got = ([r.arch_id for r in result.ledger.records], result.extra["fitness_evaluations"],
               result.extra["fitness_calls"], result.extra["fitness_metric"])
        assert got == ([arch], distinct, calls, column), (case, seed)


# -- through Ray Tune ---------------------------------------------------------------------------------------------
TOY = ["--space", "darts", "--objective", "live", "--method", "swapnas", "--fitness", "live", "--budget", "5",
       "--epochs", "2", "--channels", "4", "--layers", "3", "--train-batch-size", "32", "--train-subset", "64",
       "--trial-cpus", "1", "--num-cpus", "2", "--quiet", "--option", "population_size=6", "--option", "cycles=30",
       "--option", "mutations=3", "--option", "score_channels=4", "--option", "score_layers=3",
       "--option", "checkpoint_every=5"]


def _run(out: Path, data_dir, *extra: str) -> dict:
    result = CliRunner().invoke(main, ["search", *TOY, "--data-dir", str(data_dir), "--out", str(out), *extra])
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads((out / "summary.json").read_text())


@pytest.mark.slow
def test_toy_run_through_tune_trains_one_genotype_per_seed(tmp_path, data_dir, ray_session, torch_one_thread):
    summary = _run(tmp_path / "run", data_dir, "--seeds", "0,1")
    exp = tmp_path / "run" / "tune" / "robot"
    assert len(list(exp.glob("swapnas_live_trial_*"))) == 2  # one Tune trial per seed, nothing else trained
    traj = pd.read_parquet(tmp_path / "run" / "trajectory.parquet")
    assert traj.groupby("seed").size().tolist() == [1, 1] and (traj["stage"] == "swapnas").all()
    for run in summary["runs"]:
        assert run["queries"] == 1 and run["search_queries"] == 0 and run["final_epochs"] == 2
        assert run["fitness_calls"] == 6 + 30 * 3 and 6 < run["fitness_evaluations"] <= run["fitness_calls"]
        assert run["children"] == run["one_edge_children"] == 90 and run["search_device"] == "cpu"
        assert darts.arch_hash(run["best_arch"]) == run["best_arch_hash"] and 0 <= run["best_test_value"] <= 100
    assert summary["training"]["final"]["epochs"] == 2 and summary["training"]["protocol"] == "train_final"
    assert summary["config"]["fitness"] == "live" and summary["config"]["cache"] is None
    assert summary["objective"] == "test_acc_final"


@pytest.mark.slow
def test_resume_after_sigterm_keeps_the_scores_and_reaches_the_same_answer(tmp_path, data_dir, ray_session,
                                                                           torch_one_thread):
    whole = _run(tmp_path / "whole", data_dir, "--seeds", "0")["runs"][0]
    out = tmp_path / "parts"
    cmd = [sys.executable, "-m", "robot_ray", "search", *TOY, "--seeds", "0", "--data-dir", str(data_dir),
           "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while not list(out.glob("tune/robot/*/checkpoint_000002")) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)  # 3 checkpoints of the scores: 15 of 30 cycles
    assert proc.poll() is None, "the search finished before it could be interrupted"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err[-2000:]
    assert not (out / "summary.json").exists()
    result = CliRunner().invoke(main, ["search", "--resume", str(out), "--quiet", "--num-cpus", "2"])
    assert result.exit_code == 0, (result.output, result.exception)
    again = json.loads((out / "summary.json").read_text())["runs"][0]
    for key in ("best_arch_hash", "fitness_evaluations", "fitness_calls", "best_fitness", "best_value"):
        assert again[key] == whole[key], key
    assert again["fitness_computed"] < whole["fitness_computed"]  # the checkpointed scores were not computed again


def test_a_scorer_that_always_fails_is_an_error_not_a_random_answer():
    from robot_ray.errors import RobotRayError

    with pytest.raises(RobotRayError, match="every live SWAP score failed"):
        swapnas.run_live(lambda codes: np.full(len(codes), np.nan), 0, population_size=4, cycles=2, sample_size=2,
                         mutations=2)


def test_failed_scores_rank_last_and_are_counted():
    counter = iter(range(10**6))

    def scorer(codes):
        return np.array([np.nan if next(counter) % 3 == 0 else 1.0 + i for i in range(len(codes))])

    found = swapnas.run_live(scorer, 0, population_size=6, cycles=3, sample_size=2, mutations=2)
    assert found.extra()["fitness_nan"] == found.failed > 0 and math.isfinite(found.best_fitness)


def test_option_words_true_and_false_are_bools():
    from robot_ray.cli.search import parse_method_options

    assert parse_method_options(["crossover=false", "x=TRUE", "remove=oldest", "cycles=5"]) == {
        "crossover": False, "x": True, "remove": "oldest", "cycles": 5}


def test_a_failed_trial_is_named_in_one_line():
    from robot_ray.errors import RobotRayError
    from robot_ray.runs.robot import trial_error_line

    class TaskError(Exception):  # what Ray hands back: the worker's traceback, the cause in .cause
        def __init__(self, cause):
            super().__init__("ray::ImplicitFunc.train()\n  File \"x.py\", line 1\n" + repr(cause))
            self.cause = cause

    assert trial_error_line(TaskError(RobotRayError("lr must be > 0: fix it"))) == "lr must be > 0: fix it"
    assert trial_error_line(TaskError(ValueError("range() arg 3 must not be zero"))) == "range() arg 3 must not be zero"
