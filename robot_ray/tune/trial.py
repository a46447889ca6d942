"""The Tune trial of RoBoT's BO stage: induce a(w) from the shared metric matrix and evaluate it.

The metric matrix reaches the trial through ``tune.with_parameters`` from an ObjectRef the
driver put in the object store once (mapped zero-copy, never pickled into the trial config). Evaluation goes through the ledger actor, which decides
whether the architecture is new (spends budget) or a repeat (returns the cached answer).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import ray
from ray import tune

from robot_ray.algorithm.weights import explore_arch, weight_vector

POLL_S = 0.5


def evaluate(
    ledger, seed: int, arch_id: int, weights: Sequence[float], stage: str, objective=None, proposal: int | None = None
) -> dict[str, Any]:
    """Evaluate one architecture for one seed, through the ledger actor.

    ``objective`` is None for a benchmark table (the actor looks the answer up); otherwise a
    callable ``objective(arch_id) -> Query`` run here, in this worker, under the actor's claim
    so that no other trial pays for the same architecture. ``proposal`` numbers a BO proposal.
    """
    w = [float(x) for x in weights]
    if objective is None:
        return ray.get(ledger.query.remote(seed, arch_id, w, stage, proposal))
    while True:
        # owned by the proposal, so Tune's retry of a trial lost with its node can take it back
        claim = ray.get(ledger.claim.remote(seed, arch_id, proposal))
        status = claim.pop("status")
        if status == "cached":
            spent = ray.get(ledger.spent.remote(seed))
            if proposal is not None:
                spent = ray.get(ledger.log_proposal.remote(seed, proposal, arch_id, w, claim["value"]))["spent"]
            return {**claim, "new": False, "exhausted": False, "spent": spent}
        if status == "exhausted":
            return {"exhausted": True, "new": False}
        if status == "claimed":
            try:
                answer = objective(arch_id)
            except BaseException:
                ray.get(ledger.release.remote(seed, arch_id))
                raise
            return ray.get(
                ledger.record.remote(seed, arch_id, answer.value, answer.test_value, answer.cost, w, stage, proposal)
            )
        time.sleep(POLL_S)  # pending: another trial is training this architecture


def robot_trial(config: dict[str, Any], *, X, arch_ids, names: Sequence[str], ledger, objective=None) -> None:
    """Function trainable: one BO proposal of one seed (``tune.with_parameters`` resolves X)."""
    w = weight_vector(config["weights"], names)
    arch_id = explore_arch(X, arch_ids, w)
    out = evaluate(ledger, int(config["seed"]), arch_id, w, "explore", objective, int(config["proposal"]))
    if out.get("exhausted"):
        tune.report({"value": float("nan"), "arch_id": arch_id, "new": False, "exhausted": True})
        return
    tune.report(
        {
            "value": out["value"],
            "test_value": out["test_value"],
            "cost": out["cost"],
            "arch_id": arch_id,
            "new": out["new"],
            "spent": out["spent"],
            "exhausted": False,
        }
    )
