"""``RoBoTSearcher``: all of RoBoT as one Ray Tune searcher.

Put it in your own ``tune.Tuner`` and each suggestion is an architecture to evaluate:
``{"arch": <canonical string>, "arch_id": int, "weights": {metric: w}, "stage": "explore" |
"exploit", ...}``. The searcher runs RoBoT's two stages and its budget itself:

1. **Explore** (BO): the BO engine (:class:`~robot_ray.algorithm.weight_gp.WeightGP` by default,
   or :class:`~robot_ray.tune.weight_bo.WeightBO` on Ax) proposes a weight vector w,
   the searcher takes the architecture a(w) maximising w·X over the normalised metric matrix X,
   and a trial evaluates it. A proposal whose a(w) is already known is answered from memory
   (free, never a trial) and, with ``repeats="novel"`` (default), replaced under the same GP by
   the best-UCB weight vector that induces an architecture not yet evaluated. The first M
   proposals are the one-hot vectors (``initial="corners"``), so every metric's own top
   architecture is evaluated. BO makes ``bo_rounds`` proposals (T-1, as the paper).
2. **Exploit** (greedy): once every BO trial has reported, the next-ranked unevaluated
   architectures under the best weight vector (highest value; the later proposal wins a tie)
   until ``budget`` distinct architectures were given to trials; then ``FINISHED``.

Concurrency: any ``max_concurrent_trials`` (the searcher limits itself); the BO engine sees
running trials as pending points. ``suggest`` returns ``None`` ("not now") while Ax needs a running
trial's result, or while BO trials run at the switch to the greedy stage; it never raises for
a backend condition.

Trial schedulers: only a trial that ran to its end is an observation. A trial stopped early
(ASHA, median stopping, a ``RunConfig(stop=...)`` criterion) spent its architecture but its
partial value never enters the GP, never answers a repeat and is never ``best()``. Tune tells
the searcher of a stop only by not passing the stopping result to ``on_trial_result``. ASHA
stops even a trial that reached its ``max_t``: pass the same ``max_t`` so such a trial counts
as finished; pass ``stopped_trials="observe"`` when your trials end through
``RunConfig(stop=...)`` by design.

State: ``get_state`` is a versioned JSON dict (the BO engine's JSON snapshot included) and
references the metric matrix by its :class:`~robot_ray.metric_sources.MetricSource` and
content fingerprint, not by value, so ``Tuner.restore(path, trainable=...)`` in a fresh
process reloads it and refuses a changed one. A matrix built in memory (no source) travels
inside the searcher instead.
"""

from __future__ import annotations

import logging
import math
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from ray.tune.search import UNDEFINED_METRIC_MODE, Searcher

from robot_ray.algorithm.induced import (
    InducedArchs, candidate_weights, fingerprint, one_hot_weights, sobol_weights,
)
from robot_ray.algorithm.bo_engine import BO_ENGINES, UCB_BETA
from robot_ray.algorithm.weight_gp import WeightGP
from robot_ray.algorithm.weights import explore_arch, greedy_candidates, weight_vector
from robot_ray.errors import RobotRayError
from robot_ray.io.state import check_version
from robot_ray.metrics.matrix import MetricMatrix
from robot_ray.tune.json_state import JsonStateSearcher, read_json_state
from robot_ray.tune.param_space import constants_of
from robot_ray.tune.weight_bo import WeightBO

logger = logging.getLogger(__name__)

STATE_VERSION = 2
ENGINES = dict(zip(BO_ENGINES, (WeightGP, WeightBO)))
"""BO engines of the weights: ``gp`` (scikit-learn GP, acquisition over a finite candidate set,
milliseconds per proposal) and ``ax`` (Ax's BoTorch GP, about 0.3 s per proposal)."""
REPEATS = ("novel", "keep")
STOPPED = ("ignore", "observe")
RESERVED = ("arch", "arch_id", "weights", "stage", "proposal")
"""Config keys the searcher writes; a ``param_space`` constant may not use them."""


@dataclass
class Evaluation:
    """One distinct architecture given to a trial (or a warm-start point given by the user).

    ``status``: running, done (a final value), failed (errored or no finite value), stopped
    (ended early by a scheduler: spent, not observed), given (``add_evaluated_point``).
    """

    arch_id: int
    stage: str
    weights: list[float] | None
    proposal: int | None
    ax_index: int | None
    trial_id: str | None
    status: str = "running"
    value: float | None = None
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def observed(self) -> bool:
        return self.status in ("done", "given") and self.value is not None and math.isfinite(self.value)


class RoBoTSearcher(JsonStateSearcher):
    """RoBoT (He et al., ICLR 2024) over a pool of architectures with precomputed metrics.

    Args:
        metrics: the normalised metric matrix (:func:`robot_ray.load_metrics`).
        budget: T, distinct architectures to evaluate (BO and greedy together).
        seed: seeds the BO (same seed, same results, same proposals in sequence).
        metric, mode: the reported result key and ``"max"``/``"min"``; or from ``tune.TuneConfig``.
        bo_rounds: BO proposals, repeats answered from memory included (default T-1).
        init_trials: proposals before the GP (the corners count toward it).
        initial: ``"corners"`` (each metric alone first) or ``"sobol"`` (the paper's start).
        acquisition: ``"ucb"`` (GP-UCB, the paper) or ``"logei"`` (log expected improvement;
            Ax's qLogNEI with ``engine="ax"``).
        repeats: ``"novel"`` replaces a proposal inducing a known architecture by one inducing a
            new one; ``"keep"`` is the paper's rule (the repeat uses its round, answered free).
        points_to_evaluate: architectures (strings, ids, or dicts with ``"arch"``/``"arch_id"``)
            to evaluate first; they count toward the budget.
        stopped_trials: ``"ignore"`` (an early-stopped trial is no observation) or ``"observe"``.
        max_t: the ``training_iteration`` at which a trial has run its full length (a
            scheduler's ``max_t``: ASHA stops every trial there, the finished ones too). A trial
            stopped below it is an early stop; None: every stopped trial is.
        bo_concurrency: BO trials in flight at most (1 = the paper's sequential BO, while the
            greedy stage still runs ``max_concurrent`` trials at once); None: no limit of its own.
        candidates: weight vectors screened when replacing a repeat (capped on large pools).
        bounds: the range of every weight.
        ucb_beta: GP-UCB's beta.
        engine: the BO engine: ``"gp"`` (scikit-learn GP, the acquisition maximised over a finite
            candidate set: milliseconds per proposal) or ``"ax"`` (Ax's BoTorch GP and
            optimiser: about 0.3 s per proposal, Ax's acquisitions).

    Raises:
        RobotRayError: a budget outside 1..pool size, unknown options or architectures.

    Example:
        .. code-block:: python

            import robot_ray as rr
            from ray import tune

            bench = rr.get_benchmark("nb201", dataset="cifar10")
            metrics = rr.load_metrics("nb201", ["synflow", "snip", "nwot", "zen"], dataset="cifar10")
            searcher = rr.RoBoTSearcher(metrics, budget=20, seed=0, metric="accuracy", mode="max")

            def trainable(config):
                tune.report({"accuracy": bench.query(config["arch_id"]).value})

            tune.Tuner(trainable, tune_config=tune.TuneConfig(
                search_alg=searcher, num_samples=-1, max_concurrent_trials=4,
                reuse_actors=True)).fit()  # cheap trials: no new process per trial
            print(searcher.best())
    """

    def __init__(
        self,
        metrics: MetricMatrix,
        budget: int,
        seed: int = 0,
        *,
        metric: str | None = None,
        mode: str | None = None,
        bo_rounds: int | None = None,
        init_trials: int = 1,
        initial: str = "corners",
        acquisition: str = "ucb",
        repeats: str = "novel",
        points_to_evaluate: Sequence[Any] | None = None,
        stopped_trials: str = "ignore",
        max_t: int | None = None,
        bo_concurrency: int | None = None,
        candidates: int = 1024,
        bounds: tuple[float, float] = (-1.0, 1.0),
        ucb_beta: float = UCB_BETA,
        engine: str = "gp",
    ) -> None:
        super().__init__(metric=metric, mode=mode)
        if not isinstance(metrics, MetricMatrix):
            raise RobotRayError(
                f"RoBoTSearcher needs a MetricMatrix (robot_ray.load_metrics(...)), got {type(metrics).__name__}"
            )
        if not len(metrics.names):
            raise RobotRayError("the metric matrix has no metrics: load at least one")
        budget = _as_int(budget, "budget")
        if not 1 <= budget <= metrics.num_archs:
            raise RobotRayError(
                f"budget must be in 1..{metrics.num_archs} (the pool's architectures with metrics), got {budget}"
            )
        rounds = budget - 1 if bo_rounds is None else _as_int(bo_rounds, "bo_rounds")
        if rounds < 1:
            raise RobotRayError(f"the BO stage needs at least one round: budget {budget} with bo_rounds {bo_rounds}")
        if repeats not in REPEATS:
            raise RobotRayError(f"unknown repeat rule {repeats!r}; choose one of {', '.join(REPEATS)}")
        if stopped_trials not in STOPPED:
            raise RobotRayError(f"unknown stopped_trials {stopped_trials!r}; choose one of {', '.join(STOPPED)}")
        if engine not in ENGINES:
            raise RobotRayError(f"unknown BO engine {engine!r}; choose one of {', '.join(ENGINES)}")
        # validated now (mode may still come from Tune: the engine is built at the first suggest)
        ENGINES[engine](metrics.names, seed=seed, init_trials=init_trials, initial=initial, bounds=bounds,
                        acquisition=acquisition, ucb_beta=ucb_beta)
        self._set_matrix(metrics)
        self.budget = budget
        self.rounds = rounds
        self.seed = _as_int(seed, "seed")
        self.repeats = repeats
        self.stopped_trials = stopped_trials
        self.max_t = None if max_t is None else _as_int(max_t, "max_t")
        self._warned_stops = False
        self.candidates = _as_int(candidates, "candidates")
        if bo_concurrency is not None and _as_int(bo_concurrency, "bo_concurrency") < 1:
            raise RobotRayError(f"bo_concurrency must be at least 1, got {bo_concurrency}")
        self.bo_concurrency = bo_concurrency
        self._bo_options = {"engine": engine, "init_trials": int(init_trials), "initial": initial,
                            "bounds": [float(b) for b in bounds], "acquisition": acquisition,
                            "ucb_beta": float(ucb_beta)}
        self._bo: WeightGP | WeightBO | None = None
        self._evals: dict[int, Evaluation] = {}
        self._by_trial: dict[str, int] = {}
        self._waiting: dict[int, list[list]] = {}  # running arch -> [[ax index, proposal, weights]] of its repeats
        self._bo_obs: list[list] = []  # [rank, weights, value] of every observed BO weight vector
        self._unsynced: list[int] = []  # warm-start archs not yet told to Ax (Ax is built at the first suggest)
        self._queue = [self._arch_of(p, "points_to_evaluate") for p in (points_to_evaluate or [])]
        self._last_iter: dict[str, int] = {}
        self._constants: dict[str, Any] = {}
        self._proposals = 0
        self._replaced = 0
        self.max_concurrent: int | None = None

    # -- the pool ---------------------------------------------------------------------------------
    def _set_matrix(self, matrix: MetricMatrix) -> None:
        self._matrix = matrix
        self._source_json = None if matrix.source is None else matrix.source.to_json()
        self.names = list(matrix.names)
        self._pool = InducedArchs(matrix.values, matrix.arch_ids)
        self._fingerprint: str | None = None

    @property
    def metrics(self) -> MetricMatrix:
        if self._matrix is None:
            self._reload_matrix()
        return self._matrix

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = _cached_fingerprint(self.metrics)
        return self._fingerprint

    def _reload_matrix(self) -> None:
        """After a restore: load the matrix from its recorded source and check it is the same."""
        from robot_ray.metric_sources import MetricSource

        if self._source_json is None:
            raise RobotRayError(
                "this searcher was built on a metric matrix made in memory, which its checkpoint does not hold: "
                "build RoBoTSearcher(metrics, ...) with the same matrix and call restore(path) on it, or load the "
                "matrix with robot_ray.load_metrics so checkpoints can reference it"
            )
        matrix = _load_shared(MetricSource.from_json(self._source_json))
        found = _cached_fingerprint(matrix)
        if found != self._expected_fingerprint:
            raise RobotRayError(
                f"the metric matrix at {self._source_json.get('cache') or 'the published table'} changed since this "
                f"search started (fingerprint {found[:12]} != {self._expected_fingerprint[:12]}): a search cannot "
                "continue on other metrics; start a new one"
            )
        self._set_matrix(matrix)
        self._fingerprint = found

    def _name(self, arch_id: int) -> str:
        namer = self.metrics.archs
        return namer.arch(arch_id) if namer is not None else str(arch_id)

    def _arch_of(self, point: Any, what: str) -> int:
        """An architecture given as a string, an id, or a dict with ``arch``/``arch_id``."""
        if isinstance(point, Mapping):
            point = point.get("arch_id", point.get("arch"))
        if isinstance(point, (int, np.integer)) and not isinstance(point, bool):
            return int(point)
        if isinstance(point, str):
            namer = self.metrics.archs
            if namer is None:
                raise RobotRayError(f"{what}: architecture strings need a metric matrix that knows the names "
                                    "(robot_ray.load_metrics); give arch ids instead")
            return int(namer.arch_id(point))
        raise RobotRayError(f"{what}: expected an architecture string, an arch id or a dict with 'arch'/'arch_id', "
                            f"got {point!r}")

    # -- Tune contract ------------------------------------------------------------------------------
    def set_search_properties(self, metric: str | None, mode: str | None, config: dict, **spec) -> bool:
        if self._bo is not None:
            return False
        if metric:
            self._metric = metric
        if mode:
            if mode not in ("max", "min"):
                raise RobotRayError(f"mode must be 'max' or 'min', got {mode!r}")
            self._mode = mode
        self._constants = constants_of(config or {}, type(self).__name__, RESERVED)
        return True

    def set_max_concurrency(self, max_concurrent: int) -> bool:
        self.max_concurrent = int(max_concurrent)
        return True

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        # Tune passes every result it lets the trial continue after, but not the one a scheduler
        # stops it at: comparing with the completion result tells a stopped trial from a finished one
        if result and result.get("training_iteration") is not None:
            self._last_iter[trial_id] = int(result["training_iteration"])

    def suggest(self, trial_id: str) -> dict | None:
        if self._metric is None or self._mode is None:
            raise RuntimeError(
                UNDEFINED_METRIC_MODE.format(cls=type(self).__name__, metric=self._metric, mode=self._mode)
            )
        self._ensure_bo()
        running = self.running
        if self.max_concurrent is not None and running >= self.max_concurrent:
            return None
        if self.spent >= self.budget:
            return Searcher.FINISHED if not running else None
        while self._queue:
            arch = self._queue.pop(0)
            if arch not in self._evals:
                weights = self._weights_inducing(arch)
                index = None if weights is None else self._bo.attach(weights)
                return self._assign(trial_id, arch, "explore", weights, None, index)
        if self._proposals < self.rounds:
            if self.bo_concurrency is not None and self._running_bo() >= self.bo_concurrency:
                return None
            config = self._suggest_bo(trial_id)
            if config is not None or self._proposals < self.rounds:
                return config
        if self.spent >= self.budget:
            return Searcher.FINISHED if not self.running else None
        # greedy: the best weights are final only once every BO trial has reported
        if self._running_bo() or self._waiting:
            return None
        w = self.best_weights()
        nxt = greedy_candidates(self.metrics.values, self.metrics.arch_ids, w, self._evals.keys(), 1)
        if not nxt:  # the whole pool is evaluated
            return Searcher.FINISHED if not self.running else None
        return self._assign(trial_id, nxt[0], "exploit", [float(x) for x in w], None, None)

    def _suggest_bo(self, trial_id: str) -> dict | None:
        """The next BO proposal that needs a trial; None when Ax must wait or the rounds are spent."""
        bo = self._bo
        while self._proposals < self.rounds and self.spent < self.budget:
            n = self._proposals
            with bo.proposing(n):
                got = bo.next_weights(n)
                if got is None:
                    if self.running:
                        return None  # Ax needs a running trial's result first
                    got = self._fallback_weights(n)
                index, params = got
                weights = [params[m] for m in self.names]
                arch = explore_arch(self.metrics.values, self.metrics.arch_ids, weight_vector(params, self.names))
                if self.repeats == "novel" and arch in self._evals:
                    index, weights, arch = self._replace_repeat(n, index, weights, arch)
            self._proposals += 1
            known = self._evals.get(arch)
            if known is None:
                return self._assign(trial_id, arch, "explore", weights, n, index)
            self._answer_repeat(n, index, weights, known)
        return None

    def _fallback_weights(self, n: int) -> tuple[int, dict[str, float]]:
        """Ax cannot propose although nothing runs (every earlier trial failed or was stopped):
        a quasi-random weight vector instead of waiting forever."""
        w = sobol_weights(len(self.names), 1, self._bo.bounds, np.random.default_rng([self.seed, n, 1]))[0]
        logger.warning("RoBoTSearcher: Ax proposed nothing with no trial running; taking quasi-random weights")
        params = {m: float(v) for m, v in zip(self.names, w)}
        return self._bo.attach(params), params

    def _replace_repeat(self, n: int, index: int, weights: list[float], arch: int) -> tuple[int, list[float], int]:
        """Answer a proposal inducing a known architecture from memory and propose, under the
        same GP, the best-UCB candidate inducing a new one. Keeps the repeat if there is none."""
        pool = self._pool
        k = max(1, pool.max_candidates(self.candidates) // 2)
        cand = candidate_weights(np.asarray(weights), k, self._bo.bounds, np.random.default_rng([self.seed, n]))
        seen = self._evals.keys()
        fresh = cand[[int(a) not in seen for a in pool.induce(cand)]]
        if not len(fresh):
            return index, weights, arch
        ucb = self._bo.ucb(fresh)
        choice = int(np.nanargmax(ucb)) if ucb is not None and np.isfinite(ucb).any() else 0
        new_weights = [float(v) for v in fresh[choice]]
        new_arch = explore_arch(self.metrics.values, self.metrics.arch_ids,
                                weight_vector(dict(zip(self.names, new_weights)), self.names))
        if new_arch in seen:  # float rounding moved a near-tie onto a known arch: keep the original
            return index, weights, arch
        known = self._evals[arch]
        if known.observed:
            self._bo.complete(index, known.value)
        else:  # still running (or no value): this proposal brings nothing
            self._bo.abandon(index)
        self._replaced += 1
        return self._bo.attach(dict(zip(self.names, new_weights))), new_weights, new_arch

    def _answer_repeat(self, n: int, index: int, weights: list[float], known: Evaluation) -> None:
        """A repeated architecture costs nothing: its value (when it has one) answers the proposal."""
        if known.observed:
            self._bo.complete(index, known.value)
            self._bo_obs.append([n, weights, known.value])
        elif known.status == "running":
            self._waiting.setdefault(known.arch_id, []).append([index, n, weights])
        elif known.status == "failed":
            self._bo.fail(index, "repeats an architecture whose evaluation failed")
        else:
            self._bo.abandon(index)

    def _assign(self, trial_id: str, arch: int, stage: str, weights, proposal: int | None, index: int | None) -> dict:
        weights = None if weights is None else [float(x) for x in weights]
        self._evals[arch] = Evaluation(arch, stage, weights, proposal, index, trial_id)
        self._by_trial[trial_id] = arch
        config = {**self._constants, "arch": self._name(arch), "arch_id": int(arch),
                  "weights": None if weights is None else dict(zip(self.names, weights)), "stage": stage}
        if proposal is not None:
            config["proposal"] = proposal
        return config

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        arch = self._by_trial.pop(trial_id, None)
        evaluation = None if arch is None else self._evals.get(arch)
        if evaluation is None or evaluation.status != "running":
            logger.warning("RoBoTSearcher: completion of unknown or finished trial %s ignored", trial_id)
            return
        last = self._last_iter.pop(trial_id, None)
        if result is None and not error:  # removed before it ran: nothing was spent
            del self._evals[arch]
            self._settle(evaluation, "abandon", None)
            return
        value = None if (error or not result) else result.get(self._metric)
        if result:
            evaluation.extra = {k: float(result[k]) for k in ("test_value", "cost")
                                if isinstance(result.get(k), (int, float))}
        if value is None or not _finite(value):
            evaluation.status = "failed"
            evaluation.value = math.nan
            reason = "trial errored" if error else f"no finite {self._metric!r} in result"
            logger.warning("RoBoTSearcher: trial %s (arch %d) failed: %s", trial_id, arch, reason)
            self._settle(evaluation, "fail", reason)
            return
        iteration = result.get("training_iteration")
        stopped = iteration is not None and last != iteration and not (self.max_t is not None and iteration >= self.max_t)
        if stopped and self.stopped_trials == "ignore":
            evaluation.status = "stopped"
            evaluation.extra["stopped_value"] = float(value)
            evaluation.extra["stopped_iteration"] = float(iteration)
            self._settle(evaluation, "abandon", None)
            self._warn_if_only_stops()
            return
        evaluation.status = "done"
        evaluation.value = float(value)
        self._settle(evaluation, "complete", None)

    def _warn_if_only_stops(self) -> None:
        stops = sum(1 for e in self._evals.values() if e.status == "stopped")
        if stops >= 3 and not any(e.observed for e in self._evals.values()) and not self._warned_stops:
            self._warned_stops = True
            logger.warning(
                "RoBoTSearcher: %d trials were stopped early and none ran to its end, so BO has no observation. "
                "With ASHA (which stops even finished trials at max_t) pass RoBoTSearcher(..., max_t=<its max_t>); "
                "if your trials end through RunConfig(stop=...) by design, pass stopped_trials='observe'", stops)

    def _settle(self, evaluation: Evaluation, how: str, reason: str | None) -> None:
        """Tell the BO engine the outcome of an evaluation and of the repeats that waited on it."""
        entries = []
        if evaluation.ax_index is not None:
            rank = -1 if evaluation.proposal is None else evaluation.proposal
            entries.append([evaluation.ax_index, rank, evaluation.weights])
        entries += self._waiting.pop(evaluation.arch_id, [])
        for index, rank, weights in entries:
            if how == "complete":
                self._bo.complete(index, evaluation.value)
                self._bo_obs.append([rank, weights, evaluation.value])
            elif how == "fail":
                self._bo.fail(index, reason or "failed")
            else:
                self._bo.abandon(index)

    def add_evaluated_point(self, parameters: dict, value: float, error: bool = False, pruned: bool = False,
                            intermediate_values: list[float] | None = None) -> None:
        """Warm start: an architecture evaluated elsewhere (``{"arch": ...}`` or ``{"arch_id": ...}``).

        It is never suggested, answers repeats, and enters the GP when some weight vector
        induces it. It does not count toward the budget (this search did not spend it).
        """
        arch = self._arch_of(parameters, "add_evaluated_point")
        if arch in self._evals:
            logger.warning("RoBoTSearcher: architecture %d is already evaluated; point ignored", arch)
            return
        ok = not (error or pruned) and _finite(value)
        self._evals[arch] = Evaluation(arch, "evaluated", None, None, None, None, status="given" if ok else "failed",
                                       value=float(value) if ok else math.nan)
        if ok:
            self._unsynced.append(arch)
            if self._bo is not None:
                self._sync_given()

    def _new_bo(self) -> WeightGP | WeightBO:
        options = dict(self._bo_options)
        engine = ENGINES[options.pop("engine")]
        return engine(self.names, seed=self.seed, mode=self._mode, **{**options, "bounds": tuple(options["bounds"])})

    def _ensure_bo(self) -> None:
        if self._bo is None:
            self._bo = self._new_bo()
            self._sync_given()

    def _sync_given(self) -> None:
        while self._unsynced:
            evaluation = self._evals[self._unsynced.pop(0)]
            weights = self._weights_inducing(evaluation.arch_id)
            if weights is not None:
                evaluation.weights = weights
                evaluation.ax_index = self._bo.attach(weights)
                self._bo.complete(evaluation.ax_index, evaluation.value)
                self._bo_obs.append([-1, weights, evaluation.value])

    def _weights_inducing(self, arch: int) -> list[float] | None:
        """A weight vector whose a(w) is ``arch`` (corners, then quasi-random), if any is found."""
        bounds = tuple(self._bo_options["bounds"])
        m = len(self.names)
        spread = sobol_weights(m, 1024, bounds, np.random.default_rng([self.seed, arch]))
        cand = np.concatenate([one_hot_weights(m, bounds), spread]).astype(np.float32)
        hit = np.flatnonzero(self._pool.induce(cand) == arch)
        return None if not len(hit) else [float(v) for v in cand[hit[0]]]

    # -- what was found -----------------------------------------------------------------------------
    @property
    def spent(self) -> int:
        """Distinct architectures given to trials (the budget's unit)."""
        return sum(1 for e in self._evals.values() if e.stage != "evaluated")

    def _running_bo(self) -> int:
        return sum(1 for e in self._evals.values() if e.status == "running" and e.stage == "explore")

    @property
    def running(self) -> int:
        return sum(1 for e in self._evals.values() if e.status == "running")

    @property
    def proposals(self) -> int:
        return self._proposals

    @property
    def replaced(self) -> int:
        """BO proposals that repeated an architecture and were replaced by a novel one."""
        return self._replaced

    @property
    def t0(self) -> int:
        """Distinct architectures the BO stage evaluated."""
        return sum(1 for e in self._evals.values() if e.stage == "explore")

    @property
    def finished(self) -> bool:
        return self.spent >= self.budget and not self.running

    def best_weights(self) -> np.ndarray:
        """The weight vector of the best observed BO value (the later proposal wins a tie)."""
        sign = 1.0 if self._mode != "min" else -1.0
        observed = [o for o in self._bo_obs if _finite(o[2])]
        if observed:
            rank, weights, _ = max(observed, key=lambda o: (sign * o[2], o[0]))
            return np.asarray(weights, dtype=np.float32)
        proposed = [e for e in self._evals.values() if e.weights is not None]
        if proposed:  # nothing observed (every BO trial failed): follow the latest proposal
            return np.asarray(max(proposed, key=lambda e: e.proposal or -1).weights, dtype=np.float32)
        return np.full(len(self.names), self._bo_options["bounds"][1], dtype=np.float32)

    def best(self) -> dict[str, Any] | None:
        """The best evaluated architecture (the first found wins a tie); None before any result."""
        sign = 1.0 if self._mode != "min" else -1.0
        best = None
        for e in self._evals.values():
            if e.observed and (best is None or sign * e.value > sign * best.value):
                best = e
        if best is None:
            return None
        return {"arch": self._name(best.arch_id), "arch_id": best.arch_id, self._metric or "value": best.value,
                "weights": None if best.weights is None else dict(zip(self.names, best.weights)),
                "stage": best.stage, **best.extra}

    def history(self) -> list[dict[str, Any]]:
        """Every distinct architecture in the order the budget was spent (warm-start points first)."""
        out = []
        for e in self._evals.values():
            row = asdict(e)
            row["arch"] = self._name(e.arch_id)
            out.append(row)
        return out

    # -- state --------------------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        source = self.metrics.source
        return {
            "version": STATE_VERSION,
            "metric": self._metric,
            "mode": self._mode,
            "names": self.names,
            "source": None if source is None else source.to_json(),
            "fingerprint": self.fingerprint,
            "budget": self.budget,
            "rounds": self.rounds,
            "seed": self.seed,
            "repeats": self.repeats,
            "stopped_trials": self.stopped_trials,
            "max_t": self.max_t,
            "candidates": self.candidates,
            "bo_options": self._bo_options,
            "bo": None if self._bo is None else self._bo.snapshot(),
            "evals": [asdict(e) for e in self._evals.values()],
            "by_trial": self._by_trial,
            "waiting": {str(k): v for k, v in self._waiting.items()},
            "bo_obs": self._bo_obs,
            "unsynced": self._unsynced,
            "queue": self._queue,
            "last_iter": self._last_iter,
            "constants": self._constants,
            "proposals": self._proposals,
            "replaced": self._replaced,
            "max_concurrent": self.max_concurrent,
            "bo_concurrency": self.bo_concurrency,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        check_version(state, kind="RoBoTSearcher state", supported=[1, STATE_VERSION], hint="start a new search")
        if state["version"] == 1:  # before the GP engine: Ax was the only one
            state = {**state, "bo": state["ax_client"], "bo_options": {"engine": "ax", **state["bo_options"]}}
        self._source_json = state["source"]
        self._expected_fingerprint = state["fingerprint"]
        current = getattr(self, "_matrix", None)
        if current is not None and _cached_fingerprint(current) == self._expected_fingerprint:
            self._set_matrix(current)
        else:
            self._matrix = None
            self.metrics  # load now: fail at restore, with the fix, rather than at the next suggest
        self._fingerprint = self._expected_fingerprint
        self.names = list(state["names"])
        self._metric, self._mode = state["metric"], state["mode"]
        self.budget, self.rounds, self.seed = int(state["budget"]), int(state["rounds"]), int(state["seed"])
        self.repeats, self.stopped_trials = state["repeats"], state["stopped_trials"]
        self.max_t = state["max_t"]
        self._warned_stops = False
        self.candidates = int(state["candidates"])
        self._bo_options = dict(state["bo_options"])
        self._bo = None
        if state["bo"] is not None:
            self._bo = self._new_bo()
            self._bo.load_snapshot(state["bo"])
        self._evals = {int(e["arch_id"]): Evaluation(**e) for e in state["evals"]}
        self._by_trial = {str(k): int(v) for k, v in state["by_trial"].items()}
        self._waiting = {int(k): v for k, v in state["waiting"].items()}
        self._bo_obs = [list(o) for o in state["bo_obs"]]
        self._unsynced = [int(a) for a in state["unsynced"]]
        self._queue = [int(a) for a in state["queue"]]
        self._last_iter = {str(k): int(v) for k, v in state["last_iter"].items()}
        self._constants = dict(state["constants"])
        self._proposals, self._replaced = int(state["proposals"]), int(state["replaced"])
        self.max_concurrent = state["max_concurrent"]
        self.bo_concurrency = state["bo_concurrency"]

    @classmethod
    def from_checkpoint(cls, path: str, metrics: MetricMatrix | None = None) -> RoBoTSearcher:
        """A searcher restored from a ``save`` file; ``metrics`` only for a matrix built in memory."""
        return cls.from_state(read_json_state(path), metrics)

    @classmethod
    def from_state(cls, state: dict[str, Any], metrics: MetricMatrix | None = None) -> RoBoTSearcher:
        """A searcher from ``get_state()``; its matrix reloads from the recorded source."""
        searcher = cls.__new__(cls)
        Searcher.__init__(searcher)
        searcher._matrix = metrics
        searcher.set_state(state)
        return searcher

    def __getstate__(self) -> dict[str, Any]:
        """Tune pickles the searcher into its experiment directory: the state, plus the matrix
        itself only when it has no source to reload it from."""
        matrix = self.metrics
        return {"state": self.get_state(), "matrix": matrix if matrix.source is None else None}

    def __setstate__(self, data: dict[str, Any]) -> None:
        Searcher.__init__(self)
        self._matrix = data["matrix"]
        if self._matrix is not None:
            self._set_matrix(self._matrix)
        self.set_state(data["state"])


def _as_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise RobotRayError(f"{what} must be an integer, got {value!r}")
    return int(value)


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


_FINGERPRINTS: dict[int, tuple[weakref.ref, str]] = {}
_SHARED: dict[str, weakref.ref] = {}


def _cached_fingerprint(matrix: MetricMatrix) -> str:
    """The content hash of a matrix, computed once per array (10^7 rows: about a second)."""
    key = id(matrix.values)
    hit = _FINGERPRINTS.get(key)
    if hit is not None and hit[0]() is matrix.values:
        return hit[1]
    fp = fingerprint(matrix.values, matrix.arch_ids)
    _FINGERPRINTS[key] = (weakref.ref(matrix.values), fp)
    return fp


def _load_shared(source) -> MetricMatrix:
    """Load a source once per process: the seeds of one search restore onto one matrix."""
    key = repr(source.to_json())
    hit = _SHARED.get(key)
    matrix = None if hit is None else hit()
    if matrix is None:
        matrix = source.load()
        _SHARED[key] = weakref.ref(matrix)
    return matrix
