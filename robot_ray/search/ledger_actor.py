"""The query ledgers of a distributed search, held by one Ray actor.

Tune trials and greedy tasks run in other processes (other nodes); the budget rule "T counts
distinct architectures, a repeat is free" needs one place that sees every query of a seed.
The actor is that place: trials ask it to evaluate (tabular objective) or to *claim* an
architecture they will train themselves (live objective), so two concurrent trials never both
pay for the same architecture, and a repeat returns the cached answer.

Its whole state is a plain dict (``export``/``from_export``), written next to the results, so
an interrupted search resumes with every answer it had.
"""

from __future__ import annotations

from typing import Any

import ray

from robot_ray.benchmarks.base import Benchmark, Query
from robot_ray.errors import RobotRayError
from robot_ray.search.ledger import QueryLedger, QueryRecord
from robot_ray.search.robot_core import BestWeights


class SearchLedgers:
    """Per-seed ledgers plus the BO proposal log (plain object; the actor wraps it)."""

    def __init__(self, benchmark: Benchmark, budget: int, seeds: list[int], state: dict[str, Any] | None = None) -> None:
        """``state`` is an earlier :meth:`export`, replayed to resume."""
        self.benchmark = benchmark
        self.budget = budget
        self.ledgers = {int(s): QueryLedger(benchmark, budget) for s in seeds}
        self.best = {int(s): BestWeights() for s in seeds}
        self.proposals: dict[int, list[dict[str, Any]]] = {int(s): [] for s in seeds}
        self._claims: set[tuple[int, int]] = set()
        if state is not None:
            self._replay(state)

    # -- tabular objective ---------------------------------------------------------------------
    def query(self, seed: int, arch_id: int, weights, stage: str) -> dict[str, Any]:
        """Evaluate through the benchmark (free if seen); log the proposal when exploring."""
        ledger = self.ledgers[int(seed)]
        cached = ledger.cached(arch_id)
        if cached is None and ledger.exhausted:
            return {"exhausted": True, "new": False, "spent": ledger.spent}
        answer, new = ledger.query(arch_id, stage=stage, weights=weights)
        return self._after(seed, arch_id, weights, stage, answer, new)

    # -- live objective ------------------------------------------------------------------------
    def claim(self, seed: int, arch_id: int) -> dict[str, Any]:
        """``cached`` (answer inside), ``claimed`` (caller evaluates), ``pending`` or ``exhausted``."""
        ledger = self.ledgers[int(seed)]
        cached = ledger.cached(arch_id)
        if cached is not None:
            return {"status": "cached", **_answer(cached)}
        if (int(seed), int(arch_id)) in self._claims:
            return {"status": "pending"}
        if ledger.spent + sum(1 for s, _ in self._claims if s == int(seed)) >= self.budget:
            return {"status": "exhausted"}
        self._claims.add((int(seed), int(arch_id)))
        return {"status": "claimed"}

    def release(self, seed: int, arch_id: int) -> None:
        """Give a claim back (the evaluation failed), so another trial may retry it."""
        self._claims.discard((int(seed), int(arch_id)))

    def record(self, seed: int, arch_id: int, value: float, test_value: float, cost: float, weights, stage: str) -> dict[str, Any]:
        """Store an answer a trial computed itself under its claim."""
        self._claims.discard((int(seed), int(arch_id)))
        ledger = self.ledgers[int(seed)]
        answer = Query(float(value), float(test_value), float(cost))
        new = ledger.record(arch_id, answer, stage=stage, weights=weights)
        return self._after(seed, arch_id, weights, stage, answer, new)

    def log_proposal(self, seed: int, arch_id: int, weights, value: float) -> None:
        """A BO proposal whose arch was already answered (a repeat) still informs the best w."""
        self._log(seed, arch_id, weights, value, new=False)

    def _after(self, seed, arch_id, weights, stage, answer: Query, new: bool) -> dict[str, Any]:
        if stage == "explore":
            self._log(seed, arch_id, weights, answer.value, new=new)
        ledger = self.ledgers[int(seed)]
        return {**_answer(answer), "new": new, "spent": ledger.spent, "exhausted": False}

    def _log(self, seed, arch_id, weights, value, *, new: bool) -> None:
        w = [float(x) for x in weights]
        self.proposals[int(seed)].append({"arch_id": int(arch_id), "weights": w, "value": float(value), "new": new})
        self.best[int(seed)].update(w, value)

    # -- reads ---------------------------------------------------------------------------------
    def seen(self, seed: int) -> list[int]:
        return [r.arch_id for r in self.ledgers[int(seed)].records]

    def best_weights(self, seed: int) -> list[float] | None:
        w = self.best[int(seed)].weights
        return None if w is None else [float(x) for x in w]

    def spent(self, seed: int) -> int:
        return self.ledgers[int(seed)].spent

    def export(self) -> dict[str, Any]:
        """Everything needed to rebuild this object (JSON-safe)."""
        return {
            "budget": self.budget,
            "seeds": {
                str(s): {
                    "records": [_record_dict(r) for r in led.records],
                    "proposals": self.proposals[s],
                }
                for s, led in self.ledgers.items()
            },
        }

    def _replay(self, state: dict[str, Any]) -> None:
        if int(state["budget"]) != self.budget:
            raise RobotRayError(
                f"saved ledgers were written with budget {state['budget']}, this run has {self.budget}: "
                "resume with the original --budget"
            )
        for s, data in state["seeds"].items():
            s = int(s)
            if s not in self.ledgers:
                continue
            for r in data["records"]:
                answer = Query(r["value"], r["test_value"], r["cost"])
                self.ledgers[s].record(r["arch_id"], answer, stage=r["stage"], weights=r["weights"])
            for p in data["proposals"]:
                self._log(s, p["arch_id"], p["weights"], p["value"], new=p["new"])


def _answer(q: Query) -> dict[str, float]:
    return {"value": q.value, "test_value": q.test_value, "cost": q.cost}


def _record_dict(r: QueryRecord) -> dict[str, Any]:
    # NaN (an unknown test value or cost) round-trips through Python's json as NaN
    return {
        "query": r.query,
        "stage": r.stage,
        "arch_id": r.arch_id,
        "value": float(r.value),
        "test_value": float(r.test_value),
        "cost": float(r.cost),
        "weights": None if r.weights is None else list(r.weights),
    }


LedgerActor = ray.remote(num_cpus=0)(SearchLedgers)
"""The actor form: ``LedgerActor.remote(benchmark, budget, seeds)``; zero CPUs, it only books."""
