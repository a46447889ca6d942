"""``WeightBO``: Bayesian optimisation over RoBoT's metric-weight vectors on Ax's ``ax.Client``.

The Ax side of :class:`~robot_ray.tune.robot_searcher.RoBoTSearcher`, and nothing else: one
float parameter ``w_<metric>`` per metric in ``bounds``, a GP with GP-UCB (the paper's
acquisition; Ax's qLogNEI on request), trials attached, completed, failed or abandoned by index.
What an induced architecture is, when a proposal repeats one, the budget and the greedy stage
are the searcher's business.

Ray's bundled ``AxSearch`` targets the deprecated ``AxClient`` and breaks with ax-platform 1.3.
Ax is imported lazily, here only.

Two choices make it reproducible:
* every proposal runs under a torch RNG forked and seeded from (seed, proposal number)
  (:meth:`WeightBO.proposing`), so the same seed gives the same proposals without touching the
  caller's global RNG;
* every fitted model is dropped before each proposal (:func:`_forget_fits`), so the GP is fit
  from the data alone, exactly as in a client restored from its JSON snapshot; observations
  enter rounded as Ax's JSON store rounds them (:func:`_as_stored`) and the client has no
  ``random_seed`` (the snapshot keeps neither the raw values nor the seed). Rebuilding the
  client from its snapshot every round gave the same proposals at 6x the cost.
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
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from robot_ray.algorithm.bo_engine import BOEngine

logger = logging.getLogger(__name__)

OBJECTIVE = "value"


def param_name(metric: str) -> str:
    return f"w_{metric}"


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


def as_stored(value: float) -> float:
    """``value`` as Ax's JSON store gives it back (pandas ``to_json`` keeps 10 decimals).

    Observations enter the live client already rounded this way, so its data, and hence its GP,
    equal those of a client restored from a snapshot. The round trip is idempotent.
    """
    import pandas as pd

    frame = pd.DataFrame({"v": [float(value)]})
    return float(pd.read_json(io.StringIO(frame.to_json()), dtype=False)["v"].iloc[0])


@contextlib.contextmanager
def _one_torch_thread() -> Iterator[None]:
    """GP fits on a few dozen points gain nothing from threads and lose a lot on a busy node."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


class WeightBO(BOEngine):
    """GP-UCB over weight vectors ``w in [lo, hi]^M`` with Ax; the caller owns every decision.

    Args: those of :class:`~robot_ray.algorithm.bo_engine.BOEngine` (``"logei"`` is Ax's qLogNEI);
    the seed seeds Ax's initial design and every acquisition optimisation.
    """

    def __init__(self, names: Sequence[str], *, seed: int, **options: Any) -> None:
        super().__init__(names, seed=seed, **options)
        self._client = None

    # -- Ax client ------------------------------------------------------------------------------
    @property
    def client(self):
        if self._client is None:
            self._client = self._new_client()
        return self._client

    def _new_client(self):
        from ax import Client, RangeParameterConfig

        _quiet_ax()
        # no random_seed: the snapshot does not keep it, so a restored client runs without one;
        # proposing() seeds torch itself from (seed, proposal number) instead
        client = Client()
        client.configure_experiment(
            parameters=[RangeParameterConfig(name=param_name(m), bounds=self.bounds, parameter_type="float")
                        for m in self.names],
            name=f"robot_weights_seed{self.seed}",
        )
        client.configure_optimization(objective=OBJECTIVE if self.mode == "max" else f"-{OBJECTIVE}")
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

    # -- proposing ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def proposing(self, n: int) -> Iterator[None]:
        """Context of proposal ``n``: a GP fit from the data alone, a forked torch RNG seeded
        from (seed, n), one torch thread. Everything that decides proposal n runs inside it."""
        import torch
        from botorch.exceptions.warnings import InputDataWarning

        client = self.client
        _forget_fits(client)
        with torch.random.fork_rng(devices=[]), warnings.catch_warnings(), _one_torch_thread():
            # one observation (after the single Sobol point) cannot be standardised: expected
            warnings.filterwarnings("ignore", category=InputDataWarning)
            torch.manual_seed(self.seed * 1_000_003 + n)
            yield

    def next_weights(self, n: int) -> tuple[int, dict[str, float]] | None:
        """(Ax trial index, weights) of proposal n, or None when Ax cannot propose yet.

        Ax cannot while the observations its next step needs are still running (the initial
        design's, at its parallelism limit): Tune's "not now".
        """
        corner = self.corner(n)
        if corner is not None:
            return self.attach(corner), corner
        try:
            trials = self.client.get_next_trials(max_trials=1)
        except Exception as exc:  # DataRequiredError, MaxParallelismReachedException, ...
            logger.debug("WeightBO: Ax cannot propose yet (%s: %s)", type(exc).__name__, exc)
            return None
        if not trials:
            return None
        (index, params), = trials.items()
        return int(index), self.weights_of(params)

    def weights_of(self, params: dict[str, Any]) -> dict[str, float]:
        return {m: float(params[param_name(m)]) for m in self.names}

    def params_of(self, weights: dict[str, float] | np.ndarray) -> dict[str, float]:
        if isinstance(weights, dict):
            return {param_name(m): float(weights[m]) for m in self.names}
        return {param_name(m): float(v) for m, v in zip(self.names, weights)}

    def ucb(self, candidates: np.ndarray) -> np.ndarray | None:
        """GP-UCB of each candidate row under the current fit; None before there is a GP."""
        points = [self.params_of(row) for row in candidates]
        try:
            predicted = self.client.predict(points)
        except Exception as exc:  # no model yet (quasi-random phase)
            logger.debug("WeightBO: no GP prediction (%s)", exc)
            return None
        sign = 1.0 if self.mode == "max" else -1.0
        beta = math.sqrt(self.ucb_beta)
        return np.array([sign * p[OBJECTIVE][0] + beta * p[OBJECTIVE][1] for p in predicted])

    # -- trials ---------------------------------------------------------------------------------
    def attach(self, weights: dict[str, float] | np.ndarray) -> int:
        """An Ax trial at given weights (corners, replacements, warm-start points)."""
        return int(self.client.attach_trial(self.params_of(weights)))

    def complete(self, index: int, value: float) -> None:
        self.client.complete_trial(int(index), {OBJECTIVE: as_stored(value)})

    def fail(self, index: int, reason: str) -> None:
        self.client.mark_trial_failed(int(index), failed_reason=reason)

    def abandon(self, index: int) -> None:
        """No observation will come (a repeat of a running trial, a stopped or removed trial)."""
        self.client.mark_trial_abandoned(int(index))

    # -- state ----------------------------------------------------------------------------------
    def snapshot(self) -> dict | None:
        if self._client is None:
            return None
        fd, path = tempfile.mkstemp(suffix=".json")
        os.close(fd)
        try:
            self._client.save_to_json_file(path)
            with open(path) as f:
                return json.load(f)
        finally:
            os.unlink(path)

    def load_snapshot(self, snapshot: dict | None) -> None:
        if snapshot is None:
            self._client = None
            return
        from ax import Client

        _quiet_ax()
        fd, path = tempfile.mkstemp(suffix=".json")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(snapshot, f)
            self._client = Client.load_from_json_file(path)
        finally:
            os.unlink(path)
