"""RoBoT in a plain Python loop (no Ray): the reference the Ray path is checked against.

It drives the very same :class:`AxWeightSearcher` and RoBoT steps as the Tune experiment, one
proposal at a time, so for a given seed both paths query the same architectures. It is also
what the comparison runner uses for RoBoT rows, where Tune's per-trial overhead buys nothing.
"""

from __future__ import annotations

from ray.tune.search import Searcher

from robot_ray.benchmarks.base import Benchmark
from robot_ray.errors import RobotRayError
from robot_ray.metrics.matrix import MetricMatrix
from robot_ray.tune.weight_searcher import AxWeightSearcher
from robot_ray.algorithm.ledger import QueryLedger
from robot_ray.algorithm.induced import InducedArchs
from robot_ray.algorithm.ledger import RunResult
from robot_ray.algorithm.weights import BestWeights, explore_arch, greedy_candidates, weight_vector


def check_pool(benchmark: Benchmark, metrics: MetricMatrix, budget: int) -> None:
    """Budget and metric-pool sanity checks shared by both paths."""
    if budget > metrics.num_archs:
        raise RobotRayError(
            f"budget {budget} is larger than the pool of {metrics.num_archs} architectures with metrics: "
            f"lower --budget or precompute metrics for more architectures"
        )
    if len(metrics.arch_ids) and (metrics.arch_ids.min() < 0 or metrics.arch_ids.max() >= benchmark.num_archs):
        raise RobotRayError(
            f"metric table ids span {metrics.arch_ids.min()}..{metrics.arch_ids.max()}, outside the "
            f"{benchmark.space} benchmark's 0..{benchmark.num_archs - 1}: the table belongs to another space"
        )


def default_rounds(budget: int, bo_rounds: int | None) -> int:
    """The paper runs T-1 BO proposals, then exploits."""
    rounds = budget - 1 if bo_rounds is None else int(bo_rounds)
    if rounds < 1:
        raise RobotRayError(f"the BO stage needs at least one round (budget {budget}, bo_rounds {bo_rounds})")
    return rounds


def run_robot(
    benchmark: Benchmark,
    budget: int,
    seed: int,
    *,
    metrics: MetricMatrix,
    bo_rounds: int | None = None,
    init_trials: int = 1,
    acquisition: str = "ucb",
    repeats: str = "novel",
    initial: str = "corners",
) -> RunResult:
    """One RoBoT run: BO over weight vectors, then greedy exploitation up to ``budget`` distinct queries."""
    check_pool(benchmark, metrics, budget)
    rounds = default_rounds(budget, bo_rounds)
    names = list(metrics.names)
    searcher = AxWeightSearcher(
        names, metric="value", mode="max", seed=seed, max_proposals=rounds, init_trials=init_trials,
        acquisition=acquisition, pool=InducedArchs(metrics.values, metrics.arch_ids), repeats=repeats,
        initial=initial,
    )
    ledger = QueryLedger(benchmark, budget)
    best = BestWeights()
    for n in range(rounds):
        trial_id = f"seed{seed}_{n}"
        config = searcher.suggest(trial_id)
        if config is None or config == Searcher.FINISHED:
            break
        w = weight_vector(config["weights"], names)
        answer, _ = ledger.query(explore_arch(metrics.values, metrics.arch_ids, w), stage="explore", weights=w)
        best.update(w, answer.value)
        searcher.on_trial_complete(trial_id, {"value": answer.value})
        if ledger.exhausted:
            break
    t0 = ledger.spent
    for aid in greedy_candidates(metrics.values, metrics.arch_ids, best.weights, ledger._seen, budget - ledger.spent):
        ledger.query(aid, stage="exploit", weights=best.weights)
    return RunResult(seed=seed, ledger=ledger, t0=t0, best_weights=best.as_dict(names))
