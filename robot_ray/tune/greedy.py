"""RoBoT's exploitation stage as a Ray task: spend what is left of the budget greedily.

The candidates (the next unseen architectures of the ranking under the best weight vector)
are fixed before any is evaluated; with a live objective they are trained concurrently as Ray
tasks and recorded in ranking order, so concurrency never changes which architectures count.
"""

from __future__ import annotations

import ray

from robot_ray.algorithm.weights import greedy_candidates


@ray.remote(num_cpus=0)
def _run_objective(objective, arch_id: int):
    return objective(arch_id)


@ray.remote
def greedy_stage(X, arch_ids, ledger, seed: int, budget: int, objective=None, eval_resources: dict | None = None) -> list[int]:
    """Query the top-ranked unseen architectures until ``budget`` distinct ones are spent.

    Returns the benchmark ids it evaluated, in ranking order.
    """
    w = ray.get(ledger.best_weights.remote(seed))
    if w is None:
        raise RuntimeError(f"seed {seed}: the BO stage produced no completed proposal to exploit")
    seen = ray.get(ledger.seen.remote(seed))
    candidates = greedy_candidates(X, arch_ids, w, seen, budget - len(seen))
    if objective is None:
        for aid in candidates:
            ray.get(ledger.query.remote(seed, aid, w, "exploit"))
        return candidates
    # live objective: claim all in ranking order, train concurrently, record in ranking order
    for aid in candidates:
        # owner "exploit": if this task is lost with its node, Ray's retry takes its own claims back
        status = ray.get(ledger.claim.remote(seed, aid, "exploit"))["status"]
        if status != "claimed":
            raise RuntimeError(f"greedy candidate {aid} of seed {seed} is {status}, expected it unclaimed")
    refs = [_run_objective.options(**(eval_resources or {})).remote(objective, aid) for aid in candidates]
    try:
        answers = ray.get(refs)
    except BaseException:
        for aid in candidates:
            ray.get(ledger.release.remote(seed, aid))
        raise
    for aid, ans in zip(candidates, answers):
        ray.get(ledger.record.remote(seed, aid, ans.value, ans.test_value, ans.cost, w, "exploit"))
    return candidates
