"""The query ledgers of a distributed search, held by one Ray actor and persisted on every write.

Tune trials and greedy tasks run in other processes (other nodes); the budget rule "T counts
distinct architectures, a repeat is free" needs one place that sees every query of a seed.
The actor is that place: trials ask it to evaluate (tabular objective) or to *claim* an
architecture they will train themselves (live objective), so two concurrent trials never both
pay for the same architecture, and a repeat returns the cached answer.

BO proposals are logged by (seed, proposal number), not by Tune trial id: a resumed search
re-proposes the same weights under the same numbers (the searcher is deterministic), so
replaying finds every answer cached and the log stays exactly as in an uninterrupted run.
With ``path`` set, the whole state is written atomically after every change.
"""

from __future__ import annotations

from typing import Any

import ray

from robot_ray.benchmarks.base import Benchmark, Query
from robot_ray.errors import RobotRayError
from robot_ray.algorithm.ledger import QueryLedger, QueryRecord
from robot_ray.io.atomic import atomic_write_json
from robot_ray.algorithm.weights import BestWeights

STATE_VERSION = 1


class SearchLedgers:
    """Per-seed ledgers plus the BO proposal log (a plain object; :data:`LedgerActor` wraps it).

    Args:
        benchmark: answers table queries and names archs.
        budget: T per seed.
        seeds: the runs.
        state: an earlier :meth:`export`, replayed to resume.
        path: where to persist the state after every change (None: memory only).
    """

    def __init__(
        self,
        benchmark: Benchmark,
        budget: int,
        seeds: list[int],
        state: dict[str, Any] | None = None,
        path: str | None = None,
    ) -> None:
        self.benchmark = benchmark
        self.budget = budget
        self.ledgers = {int(s): QueryLedger(benchmark, budget) for s in seeds}
        self.proposals: dict[int, dict[int, dict[str, Any]]] = {int(s): {} for s in seeds}
        self._claims: dict[tuple[int, int], Any] = {}  # (seed, arch) -> owner (None: anonymous)
        self.path = None
        if state is not None:
            self._replay(state)
        self.path = path

    # -- tabular objective ---------------------------------------------------------------------
    def query(self, seed: int, arch_id: int, weights, stage: str, proposal: int | None = None) -> dict[str, Any]:
        """Evaluate through the benchmark (free if seen); log the proposal when exploring."""
        ledger = self.ledgers[int(seed)]
        if ledger.cached(arch_id) is None and ledger.exhausted:
            return {"exhausted": True, "new": False, "spent": ledger.spent}
        answer, new = ledger.query(arch_id, stage=stage, weights=weights)
        return self._after(seed, arch_id, weights, answer, new, proposal)

    # -- live objective ------------------------------------------------------------------------
    def claim(self, seed: int, arch_id: int, owner: Any = None) -> dict[str, Any]:
        """``cached`` (answer inside), ``claimed`` (caller evaluates), ``pending`` or ``exhausted``.

        ``owner`` names the claimant across retries (a BO trial passes its proposal number). A
        trial lost with its node never releases its claim; when Tune re-runs that proposal, the
        retry takes the claim back instead of waiting forever on its own dead earlier attempt.
        """
        key = (int(seed), int(arch_id))
        ledger = self.ledgers[key[0]]
        cached = ledger.cached(arch_id)
        if cached is not None:
            return {"status": "cached", **_answer(cached)}
        if key in self._claims:
            if owner is not None and self._claims[key] == owner:
                return {"status": "claimed"}  # a retry of the claimant; its claim is already counted
            return {"status": "pending"}
        if ledger.spent + sum(1 for s, _ in self._claims if s == key[0]) >= self.budget:
            return {"status": "exhausted"}
        self._claims[key] = owner
        return {"status": "claimed"}

    def release(self, seed: int, arch_id: int) -> None:
        """Give a claim back (the evaluation failed), so another trial may retry it."""
        self._claims.pop((int(seed), int(arch_id)), None)

    def record(
        self, seed: int, arch_id: int, value: float, test_value: float, cost: float, weights, stage: str,
        proposal: int | None = None,
    ) -> dict[str, Any]:
        """Store an answer a trial computed itself under its claim."""
        self._claims.pop((int(seed), int(arch_id)), None)
        answer = Query(float(value), float(test_value), float(cost))
        new = self.ledgers[int(seed)].record(arch_id, answer, stage=stage, weights=weights)
        return self._after(seed, arch_id, weights, answer, new, proposal)

    def log_proposal(self, seed: int, proposal: int, arch_id: int, weights, value: float) -> dict[str, Any]:
        """A BO proposal whose arch was already answered (a repeat) still informs the best w."""
        self._log(seed, proposal, arch_id, weights, value, new=False)
        self._persist()
        return {"spent": self.ledgers[int(seed)].spent}

    def _after(self, seed, arch_id, weights, answer: Query, new: bool, proposal: int | None) -> dict[str, Any]:
        if proposal is not None:
            self._log(seed, proposal, arch_id, weights, answer.value, new=new)
        self._persist()
        return {**_answer(answer), "new": new, "spent": self.ledgers[int(seed)].spent, "exhausted": False}

    def _log(self, seed, proposal, arch_id, weights, value, *, new: bool) -> None:
        log = self.proposals[int(seed)]
        entry = {"arch_id": int(arch_id), "weights": [float(x) for x in weights], "value": float(value), "new": new}
        if int(proposal) in log:  # a replayed proposal after resume: keep the original entry
            return
        log[int(proposal)] = entry

    def _persist(self) -> None:
        if self.path is not None:
            atomic_write_json(self.path, self.export())

    # -- reads ---------------------------------------------------------------------------------
    def best(self, seed: int) -> BestWeights:
        """Best weights over the proposals in proposal order (later wins a tie, as in the paper)."""
        best = BestWeights()
        for n in sorted(self.proposals[int(seed)]):
            p = self.proposals[int(seed)][n]
            best.update(p["weights"], p["value"])
        return best

    def best_weights(self, seed: int) -> list[float] | None:
        w = self.best(seed).weights
        return None if w is None else [float(x) for x in w]

    def seen(self, seed: int) -> list[int]:
        return [r.arch_id for r in self.ledgers[int(seed)].records]

    def spent(self, seed: int) -> int:
        return self.ledgers[int(seed)].spent

    def export(self) -> dict[str, Any]:
        """Everything needed to rebuild this object (JSON-safe; NaN stays NaN)."""
        return {
            "version": STATE_VERSION,
            "budget": self.budget,
            "seeds": {
                str(s): {
                    "records": [_record_dict(r) for r in led.records],
                    "proposals": {str(n): p for n, p in sorted(self.proposals[s].items())},
                }
                for s, led in self.ledgers.items()
            },
        }

    def _replay(self, state: dict[str, Any]) -> None:
        if state.get("version") != STATE_VERSION:
            raise RobotRayError(
                f"saved ledgers have version {state.get('version')!r}, expected {STATE_VERSION}: "
                "they were written by another robot-ray version; start a new search"
            )
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
            for n, p in data["proposals"].items():
                self._log(s, int(n), p["arch_id"], p["weights"], p["value"], new=p["new"])


def _answer(q: Query) -> dict[str, float]:
    return {"value": q.value, "test_value": q.test_value, "cost": q.cost}


def _record_dict(r: QueryRecord) -> dict[str, Any]:
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
"""The actor form; zero CPUs, it only books. Pin it to the driver's node so ``path`` is local."""
