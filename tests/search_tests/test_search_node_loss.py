"""Multi-node: a worker node running trials is lost mid-search; no query is counted twice or lost.

A 0-CPU head holds the driver and Tune's controller (with each seed's searcher); trials need a
custom resource only the two worker nodes carry. A slow live objective keeps trials in flight,
one of those nodes is removed, Tune retries the lost trial on the survivor
(``FailureConfig(max_failures=3)``), and the result must still be the plain loop's.
"""

from __future__ import annotations

import glob
import json
import os
import threading
import time
from pathlib import Path

import pytest
from ray.tune.search import Searcher

from robot_ray.benchmarks import get_benchmark
from robot_ray.benchmarks.base import Query
from robot_ray.metric_sources import load_metrics
from robot_ray.runs.drive import drive
from robot_ray.runs.robot import EXPERIMENT, TUNE_DIR, RobotSettings, TuneSettings, run_robot

METRICS = ["synflow", "snip", "nwot", "zen"]
SLOT = "search_slot"
BUDGET = 6
INIT_TRIALS = 2
SEEDS = [10, 11, 12]
EVAL_S = 2.0  # long enough that a node is removed while an evaluation on it is surely still running
SETTINGS = RobotSettings(budget=BUDGET, init_trials=INIT_TRIALS)


@pytest.fixture(scope="module")
def bench(data_dir):
    return get_benchmark("nb201", "cifar10", data_dir)


@pytest.fixture(scope="module")
def matrix(data_dir):
    return load_metrics("nb201", METRICS, dataset="cifar10", data_dir=data_dir)


def test_a_trial_in_flight_keeps_its_arch_and_counts_once(bench, matrix):
    """Tune retries a trial lost with its node under the same trial id, unseen by the searcher:
    while it is in flight its architecture is never suggested again, and it counts once."""
    s = RobotSettings(budget=3, init_trials=INIT_TRIALS, bo_concurrency=None).searcher(matrix, 10)
    first = s.suggest("t0")
    assert first not in (None, Searcher.FINISHED) and s.spent == 1
    others = []
    for i in (1, 2):
        config = s.suggest(f"t{i}")
        if config is not None:
            others.append(config["arch_id"])
            s.on_trial_complete(f"t{i}", {"value": bench.query(config["arch_id"]).value})
    assert first["arch_id"] not in others and len(set(others)) == len(others)
    assert s.suggest("t3") is None  # t0 may still report: the search waits, it does not re-suggest
    s.on_trial_complete("t0", {"value": bench.query(first["arch_id"]).value})
    s.on_trial_complete("t0", {"value": 0.0})  # a duplicate completion is ignored, not counted again
    n = 4
    while (config := s.suggest(f"t{n}")) != Searcher.FINISHED:
        others.append(config["arch_id"])
        s.on_trial_complete(f"t{n}", {"value": bench.query(config["arch_id"]).value})
        n += 1
    ids = [row["arch_id"] for row in s.history()]
    assert s.spent == len(ids) == len(set(ids)) == 3 and s.finished
    assert [row["status"] for row in s.history()] == ["done"] * 3
    assert s.history()[0]["value"] == bench.query(first["arch_id"]).value


def _marks(folder: Path) -> tuple[dict[str, tuple[str, int]], set[str]]:
    """Evaluations started (tag -> (node, arch)) and the tags of those that finished."""
    started, ended = {}, set()
    for p in folder.iterdir():
        kind, node, arch, tag = p.name.split("_", 3)
        if kind == "start":
            started[f"{node}_{arch}_{tag}"] = (node, int(arch))
        else:
            ended.add(f"{node}_{arch}_{tag}")
    return started, ended


@pytest.mark.slow
def test_lost_worker_node_mid_search_counts_every_query_once(tmp_path, bench, matrix):
    import ray
    from ray.cluster_utils import Cluster

    marks = tmp_path / "marks"
    marks.mkdir()

    def objective(arch_id: int) -> Query:  # defined here so Ray ships it by value to the worker nodes
        """The table's answer, slowly, leaving a start and an end mark tagged with the node it ran on."""
        tag = f"{ray.get_runtime_context().get_node_id()}_{arch_id}_{os.getpid()}-{time.time_ns()}"
        (marks / f"start_{tag}").touch()
        time.sleep(EVAL_S)
        answer = bench.query(arch_id)
        (marks / f"end_{tag}").touch()
        return answer

    if ray.is_initialized():
        ray.shutdown()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    workers = {n.node_id: n for n in (cluster.add_node(num_cpus=1, resources={SLOT: 1}) for _ in range(2))}
    out = tmp_path / "run"
    result: dict = {}

    def search() -> None:
        try:
            result["runs"] = run_robot(
                bench, matrix, SEEDS, SETTINGS, use_ray=True, objective=objective, out_dir=out, progress=False,
                tune_settings=TuneSettings(trial_resources={"cpu": 1, SLOT: 1}),
            )
        except BaseException as exc:  # reported by the main thread
            result["error"] = exc

    try:
        ray.init(address=cluster.address, log_to_driver=False, configure_logging=False)
        thread = threading.Thread(target=search)
        thread.start()
        deadline = time.monotonic() + 600  # a hang guard, not a speed check: nodes start slowly on busy machines
        victim = None
        while victim is None:
            assert thread.is_alive() and time.monotonic() < deadline, "the search ended or stalled before a node loss"
            started, ended = _marks(marks)
            fresh = [node for tag, (node, _) in started.items()
                     if tag not in ended and node in workers
                     and time.time() - (marks / f"start_{tag}").stat().st_mtime < EVAL_S / 4]
            if len(ended) >= 2 and fresh:  # the search is under way and an evaluation just began on fresh[0]
                victim = fresh[0]
            else:
                time.sleep(0.05)
        cluster.remove_node(workers[victim])
        thread.join(timeout=600)
        assert not thread.is_alive(), "the search did not finish after losing a node"
    finally:
        ray.shutdown()
        cluster.shutdown()
    assert "error" not in result, f"the search failed: {result.get('error')!r}"

    # the loss really hit a running evaluation, and its architecture was evaluated again elsewhere
    started, ended = _marks(marks)
    lost = [arch for tag, (node, arch) in started.items() if node == victim and tag not in ended]
    assert lost, "no evaluation was in flight on the removed node"
    done_elsewhere = {arch for tag, (node, arch) in started.items() if tag in ended and node != victim}
    assert set(lost) <= done_elsewhere
    assert all(tag in ended for tag, (node, _) in started.items() if node != victim)  # nothing dangling on the survivor
    # no query was evaluated beyond the budget except the retries of what ran on the lost node
    total = BUDGET * len(SEEDS)
    on_victim = sum(1 for node, _ in started.values() if node == victim)
    assert total <= len(ended) and len(started) <= total + on_victim

    evaluated = {arch for tag, (_, arch) in started.items() if tag in ended}
    states = sorted(glob.glob(str(out / TUNE_DIR / EXPERIMENT / "searcher-state-*.pkl")))
    saved = json.loads(Path(states[-1]).read_text())  # the fan-out searcher's JSON state
    for run in result["runs"]:
        ids = [r.arch_id for r in run.ledger.records]
        assert len(ids) == len(set(ids)) == BUDGET, f"seed {run.seed}: {ids}"  # none twice, none lost
        assert [r.query for r in run.ledger.records] == list(range(1, BUDGET + 1))
        assert set(ids) <= evaluated  # every counted answer came from a finished evaluation
        # the searcher is deterministic and Tune retries a lost trial with its config (the same arch),
        # so the node loss changes nothing: the same proposals, queries and order as the plain loop
        plain = SETTINGS.searcher(matrix, run.seed)
        drive(plain, lambda config: bench.query(int(config["arch_id"])))
        child = saved["children"][str(run.seed)]
        assert [e["status"] for e in child["evals"]] == ["done"] * BUDGET
        assert child["proposals"] == plain.proposals
        assert [(e["arch_id"], e["stage"], e["value"]) for e in child["evals"]] == \
            [(r["arch_id"], r["stage"], r["value"]) for r in plain.history()]
        assert ids == [r["arch_id"] for r in plain.history()]
        assert run.t0 == plain.t0
        assert list(run.best_weights.values()) == pytest.approx(plain.best_weights().tolist())
