"""``AxWeightSearcher``: a Ray Tune searcher that proposes RoBoT metric-weight vectors with Ax.

Ray's bundled ``AxSearch`` targets the deprecated ``AxClient`` and breaks with ax-platform 1.3,
so this is a thin adapter over Ax's current ``ax.Client``: one float parameter per metric in
[-1, 1], ``trial_id`` mapped to an Ax trial index, results reported back as the objective.

A repeat-aware proposal rule (``repeats="novel"``, the default when the searcher knows the pool)
goes beyond the paper: a(w) is piecewise constant, so GP-UCB in weight space keeps re-proposing
weights that induce an architecture it has already queried (one NB201 seed spent 11 of 19 rounds
on one architecture). Such a proposal is answered at once from the known value (free, as in the
paper) and replaced, under the same fitted GP, by the best-UCB candidate weight vector that
induces an unqueried architecture, so every BO round learns something.

The initial design goes beyond the paper too (``initial="corners"``, the default): the first M
proposals are the M one-hot weight vectors, i.e. each metric on its own, so the BO stage always
queries every single metric's top architecture. The search is then never worse, by the queried
value, than the best single metric's pick (the robustness RoBoT is named for, by construction),
at the price of M queries; one NB201 seed otherwise spent 17 of 19 rounds before finding the
synflow direction. ``initial="sobol"`` is the paper's quasi-random start.

Two choices make it reproducible:
* every suggestion runs under a torch RNG forked and seeded from (seed, proposal number), so the
  same seed gives the same proposals without touching the caller's global RNG;
* every fitted model is dropped before each suggestion (:func:`_forget_fits`), so the GP is fit
  from the data alone, exactly as in a searcher restored from ``save`` (a live Ax client would
  otherwise warm-start its GP from the previous fit, which a restored one cannot); observations
  enter rounded as Ax's JSON store rounds them (:func:`_as_stored`) and the Client has no
  ``random_seed`` (the snapshot keeps neither the raw values nor the seed). An earlier
  version rebuilt the client from its JSON snapshot before every suggestion for the same effect;
  that gave the same proposals but cost 85% of a 100-round search (O(n) JSON per round).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import os
import tempfile
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from ray.tune.search import UNDEFINED_METRIC_MODE, Searcher

from robot_ray.errors import RobotRayError
from robot_ray.algorithm import induced as pools
from robot_ray.tune.json_state import JsonStateSearcher

logger = logging.getLogger(__name__)

STATE_VERSION = 2
OBJECTIVE = "value"
ACQUISITIONS = ("ucb", "logei")
REPEATS = ("novel", "keep")
INITIAL = ("corners", "sobol")
LOCAL_SD = 0.1
"""Spread of the local candidates around a repeated proposal, as a fraction of the weight range."""
UCB_BETA = 2.576**2
"""GP-UCB exploration: mean + sqrt(beta) * std with sqrt(beta) = 2.576, the kappa of the
``bayes_opt`` UCB the paper's code uses. Exploration matters here: a(w) is piecewise constant,
so an exploitative acquisition keeps re-proposing weights that induce the same architecture."""


def _quiet_ax() -> None:
    """Ax logs every generated and completed trial at INFO on its own loggers; keep warnings only."""
    for name in list(logging.root.manager.loggerDict):
        if name == "ax" or name.startswith("ax."):
            logging.getLogger(name).setLevel(logging.WARNING)
    # after one Sobol point the GP sees a single (constant) outcome: expected, not a problem
    logging.getLogger("ax.adapter.transforms.standardize_y").setLevel(logging.ERROR)


def _forget_fits(client) -> None:
    """Drop the fitted models of every generator so the next one is fit from the data alone.

    What ``Client.load_from_json_file`` gives (no fitted model survives JSON), without its cost.
    Uses Ax internals (``GeneratorSpec._fitted_adapter``), pinned by ax-platform==1.3.1;
    ``test_live_searcher_matches_one_restored_every_round`` fails if Ax changes underneath.
    """
    for node in client._generation_strategy.nodes_by_name.values():
        for spec in node.generator_specs:
            spec._fitted_adapter = None
            spec._last_fit_arg_ids = None


def _as_stored(value: float) -> float:
    """``value`` as Ax's JSON store gives it back (pandas ``to_json`` keeps 10 decimals).

    Observations enter the live client already rounded this way, so its data, and hence its GP,
    equal those of a client restored from a snapshot. The round trip is idempotent.
    """
    import pandas as pd

    frame = pd.DataFrame({"v": [float(value)]})
    return float(pd.read_json(io.StringIO(frame.to_json()), dtype=False)["v"].iloc[0])


def _param_name(metric: str) -> str:
    return f"w_{metric}"


@contextlib.contextmanager
def _one_torch_thread():
    """GP fits on a few dozen points gain nothing from threads and lose a lot on a busy node."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


class AxWeightSearcher(JsonStateSearcher):
    """Propose weight vectors ``w in [lo, hi]^M`` over M training-free metrics with Ax BO.

    Each suggestion is a Tune config ``{"weights": {metric: w_m, ...}, "proposal": n}``; the trial must report
    ``metric`` (default ``"value"``), the objective of the architecture ``a(w)`` it induced.

    Args:
        metric_names: the metrics, in the column order of the metric matrix.
        metric, mode: the reported result key and ``"max"``/``"min"`` (settable later through
            ``tune.TuneConfig``).
        seed: seeds Ax's initial design and every acquisition optimisation.
        max_proposals: stop (return ``FINISHED``) after this many suggestions; the paper uses T-1.
        init_trials: proposals before the GP takes over (Sobol points after any corners; the
            corners count toward it).
        initial: ``"corners"`` starts with the M one-hot weight vectors (see the module
            docstring), ``"sobol"`` with quasi-random points only (the paper).
        bounds: the range of every weight.
        acquisition: ``"ucb"`` (GP-UCB, as the paper; default) or ``"logei"`` (Ax's default qLogNEI).
        ucb_beta: UCB's beta (see :data:`UCB_BETA`).
        pool: the pool's :class:`~robot_ray.algorithm.induced.InducedArchs`, so the searcher knows a(w)
            (registered for lookup on restore); None for a searcher that never sees the pool.
        repeats: ``"novel"`` replaces a proposal that repeats an architecture this searcher
            already proposed (see the module docstring); ``"keep"`` is the paper's rule (the
            repeat is evaluated, free, and uses up its BO round). Default: novel with a pool.
        candidates: weight vectors screened per replacement (half quasi-random over the box,
            half around the repeated proposal), capped on large pools.

    Example:
        .. code-block:: python

            searcher = ConcurrencyLimiter(
                AxWeightSearcher(["synflow", "snip", "nwot", "zen"], seed=10, max_proposals=19),
                max_concurrent=1,
            )
            tune.Tuner(trainable, tune_config=tune.TuneConfig(
                search_alg=searcher, metric="value", mode="max", num_samples=19)).fit()
    """

    def __init__(
        self,
        metric_names: Sequence[str],
        *,
        metric: str | None = None,
        mode: str | None = None,
        seed: int = 0,
        max_proposals: int | None = None,
        init_trials: int = 1,
        bounds: tuple[float, float] = (-1.0, 1.0),
        acquisition: str = "ucb",
        ucb_beta: float = UCB_BETA,
        pool: pools.InducedArchs | None = None,
        repeats: str | None = None,
        candidates: int = 1024,
        initial: str = "corners",
    ) -> None:
        super().__init__(metric=metric, mode=mode)
        names = list(metric_names)
        if not names:
            raise RobotRayError("AxWeightSearcher needs at least one metric name")
        if len(set(names)) != len(names):
            raise RobotRayError(f"duplicate metric names in {names}")
        if not bounds[0] < bounds[1]:
            raise RobotRayError(f"weight bounds must satisfy low < high, got {bounds}")
        if init_trials < 1:
            raise RobotRayError(f"init_trials must be at least 1, got {init_trials}")
        self.metric_names = names
        self.seed = int(seed)
        self.max_proposals = max_proposals
        self.init_trials = int(init_trials)
        self.bounds = (float(bounds[0]), float(bounds[1]))
        if acquisition not in ACQUISITIONS:
            raise RobotRayError(f"unknown acquisition {acquisition!r}; choose one of {', '.join(ACQUISITIONS)}")
        self.acquisition = acquisition
        self.ucb_beta = float(ucb_beta)
        repeats = repeats or ("novel" if pool is not None else "keep")
        if repeats not in REPEATS:
            raise RobotRayError(f"unknown repeat rule {repeats!r}; choose one of {', '.join(REPEATS)}")
        if repeats == "novel" and pool is None:
            raise RobotRayError("repeats='novel' needs the pool (pass pool=InducedArchs(X, arch_ids)) to know a(w)")
        self.repeats = repeats
        if initial not in INITIAL:
            raise RobotRayError(f"unknown initial design {initial!r}; choose one of {', '.join(INITIAL)}")
        self.initial = initial
        self.candidates = int(candidates)
        self.pool_key = None if pool is None else pools.register(pool)
        self._client = None
        self._proposals = 0
        self._trial_index: dict[str, int] = {}
        self._finished: set[str] = set()
        self._arch_of: dict[int, int] = {}  # Ax trial index -> the architecture its weights induce
        self._values: dict[int, float] = {}  # architecture -> value, from completed trials
        self._replaced = 0

    # -- search space --------------------------------------------------------------------------
    @staticmethod
    def convert_search_space(metric_names: Sequence[str], bounds: tuple[float, float] = (-1.0, 1.0)) -> list:
        """Ax parameter configs for the weight vector (one ``w_<metric>`` float each)."""
        from ax import RangeParameterConfig

        return [
            RangeParameterConfig(name=_param_name(m), bounds=bounds, parameter_type="float")
            for m in metric_names
        ]

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict, **spec) -> bool:
        # The weight space is fixed by the metric names; a Tune param_space is not needed.
        if self._client is not None:
            return False
        if metric:
            self._metric = metric
        if mode:
            self._mode = mode
        return True

    # -- Ax client -----------------------------------------------------------------------------
    def _new_client(self):
        from ax import Client

        _quiet_ax()
        # no random_seed: the snapshot does not keep it, so a restored client runs without one;
        # suggest() seeds torch itself from (seed, proposal number) instead
        client = Client()
        client.configure_experiment(
            parameters=self.convert_search_space(self.metric_names, self.bounds),
            name=f"robot_weights_seed{self.seed}",
        )
        client.configure_optimization(objective=OBJECTIVE if self._mode == "max" else f"-{OBJECTIVE}")
        client.set_generation_strategy(self._generation_strategy())
        return client

    def _generation_strategy(self):
        """Sobol initial design, then a GP with the chosen acquisition (Ax's dispatch, public API)."""
        from ax.api.utils.generation_strategy_dispatch import choose_generation_strategy
        from ax.api.utils.structs import GenerationStrategyDispatchStruct

        struct = GenerationStrategyDispatchStruct(
            method="fast",
            initialization_budget=self.init_trials,
            initialization_random_seed=self.seed,
            # the centre (all weights 0) scores every architecture 0: a wasted query
            initialize_with_center=False,
        )
        if self.acquisition == "logei":
            return choose_generation_strategy(struct)
        from botorch.acquisition import qUpperConfidenceBound

        strategy = choose_generation_strategy(struct, botorch_acqf_class=qUpperConfidenceBound)
        for node in strategy.nodes_by_name.values():
            for spec in node.generator_specs:
                if spec.generator_kwargs.get("botorch_acqf_class") is qUpperConfidenceBound:
                    spec.generator_kwargs["acquisition_options"] = {"beta": self.ucb_beta}
        return strategy

    def _client_snapshot(self) -> dict:
        fd, path = tempfile.mkstemp(suffix=".json")
        os.close(fd)
        try:
            self._client.save_to_json_file(path)
            with open(path) as f:
                return json.load(f)
        finally:
            os.unlink(path)

    @staticmethod
    def _client_from_snapshot(snapshot: dict):
        from ax import Client

        _quiet_ax()
        fd, path = tempfile.mkstemp(suffix=".json")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(snapshot, f)
            return Client.load_from_json_file(path)
        finally:
            os.unlink(path)

    # -- Tune contract -------------------------------------------------------------------------
    def suggest(self, trial_id: str) -> dict | None:
        if self._metric is None or self._mode is None:
            raise RuntimeError(
                UNDEFINED_METRIC_MODE.format(cls=type(self).__name__, metric=self._metric, mode=self._mode)
            )
        if self.max_proposals is not None and self._proposals >= self.max_proposals:
            return Searcher.FINISHED
        if self._client is None:
            self._client = self._new_client()
        else:
            _forget_fits(self._client)
        import torch

        from botorch.exceptions.warnings import InputDataWarning

        with torch.random.fork_rng(devices=[]), warnings.catch_warnings(), _one_torch_thread():
            # one observation (after the single Sobol point) cannot be standardised: expected
            warnings.filterwarnings("ignore", category=InputDataWarning)
            torch.manual_seed(self.seed * 1_000_003 + self._proposals)
            corner = self._corner(self._proposals)
            if corner is not None:
                index, params = self._client.attach_trial(corner), corner
            else:
                trials = self._client.get_next_trials(max_trials=1)
                if not trials:  # Ax is at its parallelism limit: "not now"
                    return None
                (index, params), = trials.items()
            weights = self._weights_of(params)
            arch = None
            if self.pool_key is not None:
                arch = self._induced(weights)
                if self.repeats == "novel" and self._already_proposed(arch):
                    index, weights, arch = self._replace_repeat(index, weights, arch)
        self._trial_index[trial_id] = int(index)
        if arch is not None:
            self._arch_of[int(index)] = arch
        self._proposals += 1
        # "proposal" numbers this seed's suggestions: a resumed search that proposes the same
        # weights again (deterministically) is recognised by it, whatever Tune's trial id
        return {"weights": weights, "proposal": self._proposals - 1}

    def _corner(self, n: int) -> dict[str, float] | None:
        """Proposal n of the initial design if it is a one-hot weight vector (metric n alone)."""
        if self.initial != "corners" or n >= len(self.metric_names):
            return None
        lo, hi = self.bounds
        off = min(max(0.0, lo), hi)
        return {_param_name(m): (hi if i == n else off) for i, m in enumerate(self.metric_names)}

    # -- repeat-aware proposals ----------------------------------------------------------------
    def _weights_of(self, params: dict) -> dict[str, float]:
        return {m: float(params[_param_name(m)]) for m in self.metric_names}

    def _induced(self, weights: dict[str, float]) -> int:
        """a(w) exactly as the trial computes it (same float32 vector, same argmax)."""
        from robot_ray.algorithm.weights import explore_arch, weight_vector

        pool = pools.lookup(self.pool_key)
        return explore_arch(pool.X, pool.arch_ids, weight_vector(weights, self.metric_names))

    def _already_proposed(self, arch: int) -> bool:
        return arch in self._arch_of.values()

    def _replace_repeat(self, index: int, weights: dict[str, float], arch: int) -> tuple[int, dict[str, float], int]:
        """Answer a repeated proposal from what is known and propose a novel one in its place.

        Keeps the repeat (the paper's behaviour) when no candidate induces a new architecture.
        """
        pool = pools.lookup(self.pool_key)
        lo, hi = self.bounds
        m = len(self.metric_names)
        k = max(1, pool.max_candidates(self.candidates) // 2)
        rng = np.random.default_rng([self.seed, self._proposals])
        from scipy.stats import qmc

        spread = qmc.Sobol(m, seed=rng).random(k) * (hi - lo) + lo
        w0 = np.array([weights[n] for n in self.metric_names])
        local = np.clip(w0 + rng.normal(0.0, LOCAL_SD * (hi - lo), size=(k, m)), lo, hi)
        cand = np.concatenate([spread, local]).astype(np.float32)
        seen = set(self._arch_of.values())
        fresh = cand[[int(a) not in seen for a in pool.induce(cand)]]
        if not len(fresh):
            return index, weights, arch
        points = [{_param_name(n): float(v) for n, v in zip(self.metric_names, row)} for row in fresh]
        try:
            predicted = self._client.predict(points)
            sign = 1.0 if self._mode == "max" else -1.0
            ucb = np.array([sign * p[OBJECTIVE][0] + math.sqrt(self.ucb_beta) * p[OBJECTIVE][1] for p in predicted])
            choice = int(np.nanargmax(ucb)) if np.isfinite(ucb).any() else 0
        except Exception as exc:  # no model yet (quasi-random phase): the first fresh candidate
            logger.debug("AxWeightSearcher: no GP prediction (%s); taking a quasi-random novel candidate", exc)
            choice = 0
        new_weights = self._weights_of(points[choice])
        new_arch = self._induced(new_weights)
        if new_arch in seen:  # float rounding moved a near-tie onto a known arch: keep the original
            return index, weights, arch
        # the repeated proposal is an observation we already have, for free
        if arch in self._values:
            self._client.complete_trial(index, {OBJECTIVE: _as_stored(self._values[arch])})
        else:  # its first proposal is still running: drop this one
            self._client.mark_trial_abandoned(index)
        self._replaced += 1
        new_index = self._client.attach_trial(points[choice])
        return int(new_index), new_weights, new_arch

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        index = self._trial_index.get(trial_id)
        if index is None or trial_id in self._finished:
            logger.warning("AxWeightSearcher: completion for unknown or finished trial %s ignored", trial_id)
            return
        self._finished.add(trial_id)
        value = None if (error or not result) else result.get(self._metric)
        if value is None or not math.isfinite(float(value)):
            reason = "trial errored" if error else f"no finite {self._metric!r} in result"
            logger.warning("AxWeightSearcher: trial %s marked failed (%s)", trial_id, reason)
            self._client.mark_trial_failed(index, failed_reason=reason)
            return
        self._client.complete_trial(index, {OBJECTIVE: _as_stored(value)})
        if index in self._arch_of:
            self._values[self._arch_of[index]] = float(value)

    @property
    def proposals(self) -> int:
        return self._proposals

    @property
    def replaced(self) -> int:
        """Proposals that repeated an architecture and were replaced by a novel one."""
        return self._replaced

    # -- state ---------------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "metric_names": list(self.metric_names),
            "metric": self._metric,
            "mode": self._mode,
            "seed": self.seed,
            "max_proposals": self.max_proposals,
            "init_trials": self.init_trials,
            "bounds": list(self.bounds),
            "acquisition": self.acquisition,
            "ucb_beta": self.ucb_beta,
            "repeats": self.repeats,
            "initial": self.initial,
            "candidates": self.candidates,
            "pool": self.pool_key,
            "arch_of": {str(k): v for k, v in self._arch_of.items()},
            "values": {str(k): v for k, v in self._values.items()},
            "replaced": self._replaced,
            "proposals": self._proposals,
            "trial_index": dict(self._trial_index),
            "finished": sorted(self._finished),
            "ax_client": None if self._client is None else self._client_snapshot(),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        if state.get("version") != STATE_VERSION:
            raise RobotRayError(
                f"searcher state version {state.get('version')!r} is not supported (expected {STATE_VERSION}): "
                "it was written by another robot-ray version; start a new search"
            )
        self.metric_names = list(state["metric_names"])
        self._metric, self._mode = state["metric"], state["mode"]
        self.seed = int(state["seed"])
        self.max_proposals = state["max_proposals"]
        self.init_trials = int(state["init_trials"])
        self.bounds = tuple(state["bounds"])
        self.acquisition = state["acquisition"]
        self.ucb_beta = float(state["ucb_beta"])
        self.repeats = state["repeats"]
        self.initial = state["initial"]
        self.candidates = int(state["candidates"])
        self.pool_key = state["pool"]
        if self.pool_key is not None:
            pools.lookup(self.pool_key)  # fail now, with the fix, rather than at the next suggestion
        self._arch_of = {int(k): int(v) for k, v in state["arch_of"].items()}
        self._values = {int(k): float(v) for k, v in state["values"].items()}
        self._replaced = int(state["replaced"])
        self._proposals = int(state["proposals"])
        self._trial_index = {str(k): int(v) for k, v in state["trial_index"].items()}
        self._finished = set(state["finished"])
        snap = state["ax_client"]
        self._client = None if snap is None else self._client_from_snapshot(snap)
