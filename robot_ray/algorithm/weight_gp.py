"""``WeightGP``: GP-UCB over RoBoT's metric-weight vectors, with the acquisition over a finite set.

The light BO engine of :class:`~robot_ray.tune.robot_searcher.RoBoTSearcher` (``engine="gp"``,
the default); ``engine="ax"`` is :class:`~robot_ray.tune.weight_bo.WeightBO` on Ax. Both answer
the same calls, so the searcher owns every decision (repeats, budget, greedy stage) either way.

Why not Ax for every proposal: on NB201 an Ax proposal costs about 0.33 s on one core (BoTorch's
GP fit 0.16 s, multi-start acquisition optimisation 0.17 s), 90% of a seed's search time and
more than the paper's whole bayes_opt loop per seed. Here a proposal costs a few milliseconds:

* the induced architecture a(w) is piecewise constant in w, so the acquisition need not be
  optimised to the last digit: it is maximised over a finite candidate set (quasi-random points
  over the box, plus points around the best observed weights), as bayes_opt seeds its own
  optimiser with random points;
* the GP is scikit-learn's, shaped as BoTorch's ``SingleTaskGP`` that Ax fits (an RBF kernel
  with one length scale per metric on the unit cube, standardised values, a noise term, and
  BoTorch's priors for a MAP fit, see :func:`_map_optimizer`); its fit takes ~3 ms on one core.
  It depends on the observations only, so a restored engine proposes what the live one would.

Running trials (parallel BO) enter as pending points by the kriging believer: the GP is
conditioned on them at its own predicted mean with the hyper-parameters fixed, which shrinks the
posterior spread around them, so concurrent proposals spread out instead of coinciding.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from robot_ray.algorithm.bo_engine import BOEngine
from robot_ray.algorithm.induced import sobol_weights
from robot_ray.errors import RobotRayError
from robot_ray.io.state import check_version, float_from_json, json_float

STATE_VERSION = 1
CANDIDATES = 2048
"""Quasi-random candidates per proposal over the box (M <= 11 metrics: about 1 ms of GP prediction)."""
LOCAL = 128
"""Candidates around each of the :data:`LOCAL_CENTRES` best observed weight vectors."""
LOCAL_CENTRES = 3
BOUNDARY = 512
"""Candidates with some weights pinned at a bound (each weight with probability 0.3)."""
REFINE_CENTRES = 8
REFINE = 64
REFINE_SD = 0.02
"""The second pass: REFINE points around each of the REFINE_CENTRES best candidates."""
LOCAL_SD = 0.1
"""Spread of the local candidates, as a fraction of the weight range."""
NOISE_PRIOR = (-4.0, 1.0)
"""BoTorch's LogNormal(loc, scale) prior on the noise variance of standardised values."""

MIN_OBSERVATIONS = 2
"""Finite observations the GP needs; before that a proposal is quasi-random."""


def length_prior(m: int) -> tuple[float, float]:
    """(loc, scale) of BoTorch's dimension-scaled LogNormal length-scale prior for m inputs."""
    return math.sqrt(2.0) + 0.5 * math.log(m), math.sqrt(3.0)


def prior_mode(loc: float, scale: float) -> float:
    """Where every fit starts, as BoTorch initialises its hyper-parameters: a prior's mode."""
    return math.exp(loc - scale**2)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """A few dozen noisy-looking points often put a hyper-parameter at its bound: expected."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message=".*(lbfgs|ABNORMAL|Predicted variances).*")
        yield


def _map_optimizer(m: int):
    """scikit-learn's hyper-parameter fit made a MAP fit: L-BFGS-B on the negative log marginal
    likelihood plus the negative log priors of BoTorch's ``SingleTaskGP`` (what Ax fits):
    length scales LogNormal(sqrt(2) + log(m)/2, sqrt(3)), noise LogNormal(-4, 1). Without them a
    few dozen observations of a step function (a(w) is piecewise constant) often collapse the
    length scales, and the UCB then chases noise."""
    from scipy.optimize import minimize

    priors = [length_prior(m)] * m + [NOISE_PRIOR]  # theta: log length scales, then log noise

    def optimizer(obj_func, initial_theta, bounds):
        mu = np.array([p[0] for p in priors])
        sd = np.array([p[1] for p in priors])

        def objective(theta):
            value, grad = obj_func(theta, eval_gradient=True)
            # a LogNormal prior on exp(theta) is a Normal one on theta: add its -log density
            z = (theta - mu) / sd
            return value + 0.5 * float(z @ z), grad + z / sd

        result = minimize(objective, initial_theta, jac=True, method="L-BFGS-B", bounds=bounds)
        return result.x, result.fun

    return optimizer


class WeightGP(BOEngine):
    """GP-UCB over weight vectors ``w in [lo, hi]^M``; trials attached, completed, failed or
    abandoned by index, as :class:`~robot_ray.tune.weight_bo.WeightBO`.

    Args: those of :class:`~robot_ray.algorithm.bo_engine.BOEngine`, and
        candidates: quasi-random candidates per proposal.
    """

    def __init__(self, names: Sequence[str], *, seed: int, candidates: int = CANDIDATES, **options: Any) -> None:
        super().__init__(names, seed=seed, **options)
        if candidates < 16:
            raise RobotRayError(f"the GP engine needs at least 16 candidates per proposal, got {candidates}")
        self.candidates = int(candidates)
        # trial index -> [weights, status, value]; status: pending | complete | failed | abandoned
        self._trials: list[list] = []
        self._n: int | None = None
        self._model = None  # the fit of proposal _n (pending points included)

    # -- proposing ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def proposing(self, n: int) -> Iterator[None]:
        """Context of proposal ``n``: one GP fit (made at its first use) serves the proposal and a
        replacement's UCB, as Ax's one model does; trials attached meanwhile do not refit it."""
        from threadpoolctl import threadpool_limits

        self._n, self._model = int(n), None
        try:
            # BLAS threads on matrices of a few dozen rows only spin: 1 thread is 3x faster on a busy node
            with _quiet(), threadpool_limits(1):
                yield
        finally:
            self._n, self._model = None, None

    def next_weights(self, n: int) -> tuple[int, dict[str, float]]:
        """(trial index, weights) of proposal n: a corner, a quasi-random point while the GP has
        too little data, else the candidate with the highest acquisition value."""
        corner = self.corner(n)
        if corner is not None:
            return self.attach(corner), corner
        rng = np.random.default_rng([self.seed, n, 7])
        model = None if n < self.init_trials else self._fit(n)
        if model is None:
            w = sobol_weights(len(self.names), 1, self.bounds, rng)[0]
        else:
            w = self._best_candidate(model, rng)
        weights = {m: float(v) for m, v in zip(self.names, w)}
        return self.attach(weights), weights

    def ucb(self, candidates: np.ndarray) -> np.ndarray | None:
        """GP-UCB of each candidate row under proposal n's fit; None before there is a GP."""
        model = self._fit(self._n)
        if model is None:
            return None
        mean, std = self._predict(model, candidates)
        return mean + math.sqrt(self.ucb_beta) * std

    # -- the GP ---------------------------------------------------------------------------------
    def _unit(self, W: np.ndarray) -> np.ndarray:
        lo, hi = self.bounds
        return (np.asarray(W, dtype=np.float64) - lo) / (hi - lo)

    def _fit(self, n: int | None):
        """The GP of proposal n on the finite observations (sign-flipped for ``min``), conditioned
        on the pending points; None with too few observations. Cached for the proposal."""
        if self._model is not None and n is not None and n == self._n:
            return self._model
        from sklearn.gaussian_process import GaussianProcessRegressor

        done = self._observed()
        if len(done) < MIN_OBSERVATIONS:
            return None
        X = self._unit([w for _, w, _ in done])
        y = np.array([v for _, _, v in done])
        # every fit starts at the priors' modes, as BoTorch's does: warm-starting from the last
        # fit was measured worse (NB201 seeds 0-29: the best cell in 93% / 90% of CIFAR-10 /
        # CIFAR-100 runs instead of 97% / 97%) and saves only ~3 ms
        gp = GaussianProcessRegressor(self._kernel(), normalize_y=True,
                                      optimizer=_map_optimizer(len(self.names))).fit(X, y)
        pending = [w for w, status, _ in self._trials if status == "pending"]
        if pending:  # kriging believer: condition on the pending points at the predicted mean
            P = self._unit(pending)
            believed = gp.predict(P)
            gp = GaussianProcessRegressor(gp.kernel_, normalize_y=True, optimizer=None).fit(
                np.vstack([X, P]), np.concatenate([y, believed]))
        if n is not None and n == self._n:
            self._model = gp
        return gp

    def _observed(self) -> list[tuple[int, list[float], float]]:
        """(trial index, weights, value) of every finite observation, the value negated for
        ``min`` so that the GP always maximises."""
        sign = 1.0 if self.mode == "max" else -1.0
        return [(i, w, sign * v) for i, (w, status, v) in enumerate(self._trials)
                if status == "complete" and math.isfinite(v)]

    def _kernel(self):
        """RBF with one length scale per metric, unit output scale (y is standardised), noise."""
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

        m = len(self.names)
        return (ConstantKernel(1.0, "fixed")
                * RBF(length_scale=[prior_mode(*length_prior(m))] * m, length_scale_bounds=(0.025, 1e3))
                + WhiteKernel(prior_mode(*NOISE_PRIOR), (1e-4, 1.0)))

    def _predict(self, gp, W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean, std = gp.predict(self._unit(W), return_std=True)
        return mean, np.maximum(std, 0.0)

    def _candidates(self, rng: np.random.Generator) -> np.ndarray:
        """Quasi-random points over the box, points on its faces and corners (where a GP's
        spread, hence the UCB, is often largest), and points around the best observed weights."""
        lo, hi = self.bounds
        m = len(self.names)
        spread = sobol_weights(m, self.candidates, self.bounds, rng)
        faces = sobol_weights(m, BOUNDARY, self.bounds, rng)
        pinned = rng.random(faces.shape) < 0.3
        faces[pinned] = np.where(rng.random(int(pinned.sum())) < 0.5, lo, hi)
        # the best first, the later trial first on a tie
        done = sorted(self._observed(), key=lambda o: (o[2], o[0]), reverse=True)
        centres = [w for _, w, _ in done[:LOCAL_CENTRES]]
        local = [np.clip(np.asarray(c) + rng.normal(0.0, LOCAL_SD * (hi - lo), size=(LOCAL, m)), lo, hi)
                 for c in centres]
        return np.concatenate([spread, faces, *local])

    def _best_candidate(self, gp, rng: np.random.Generator) -> np.ndarray:
        """The acquisition's argmax over the candidates, then over points around its best few."""
        lo, hi = self.bounds
        cand = self._candidates(rng)
        acq = self._acquire(gp, cand)
        top = cand[np.argsort(-acq, kind="stable")[:REFINE_CENTRES]]
        near = np.clip(np.repeat(top, REFINE, axis=0)
                       + rng.normal(0.0, REFINE_SD * (hi - lo), size=(len(top) * REFINE, top.shape[1])), lo, hi)
        near_acq = self._acquire(gp, near)
        if near_acq.max() > acq.max():
            return near[int(np.argmax(near_acq))]
        return cand[int(np.argmax(acq))]

    def _acquire(self, gp, W: np.ndarray) -> np.ndarray:
        mean, std = self._predict(gp, W)
        if self.acquisition == "ucb":
            return mean + math.sqrt(self.ucb_beta) * std
        from scipy.special import log_ndtr

        # log EI over the best observed value (in the GP's units): stable where EI underflows
        best = max(v for _, _, v in self._observed())
        std = np.maximum(std, 1e-12)
        z = (mean - best) / std
        # log(phi(z) + z Phi(z)) via log Phi, accurate for z >> 0 and z << 0 alike
        log_phi = -0.5 * z**2 - 0.5 * math.log(2 * math.pi)
        log_cdf = log_ndtr(z)
        with np.errstate(divide="ignore", invalid="ignore"):
            h = np.where(z > -6, np.log(np.maximum(np.exp(log_phi) + z * np.exp(log_cdf), 1e-300)),
                         log_phi - np.log(z**2 - 1))
        return h + np.log(std)

    # -- trials ---------------------------------------------------------------------------------
    def attach(self, weights: dict[str, float] | np.ndarray) -> int:
        """A trial at given weights (corners, replacements, warm-start points)."""
        if isinstance(weights, dict):
            w = [float(weights[m]) for m in self.names]
        else:
            w = [float(v) for v in weights]
        self._trials.append([w, "pending", math.nan])
        return len(self._trials) - 1

    def _set(self, index: int, status: str, value: float) -> None:
        if not 0 <= index < len(self._trials):
            raise RobotRayError(f"WeightGP has no trial {index}")
        self._trials[index][1:] = [status, value]

    def complete(self, index: int, value: float) -> None:
        self._set(int(index), "complete", float(value))

    def fail(self, index: int, reason: str) -> None:
        self._set(int(index), "failed", math.nan)

    def abandon(self, index: int) -> None:
        """No observation will come (a repeat of a running trial, a stopped or removed trial)."""
        self._set(int(index), "abandoned", math.nan)

    # -- state ----------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        return {"version": STATE_VERSION, "engine": "gp",
                "trials": [[w, s, json_float(v)] for w, s, v in self._trials]}

    def load_snapshot(self, snapshot: dict[str, Any] | None) -> None:
        self._model = None
        if snapshot is None:
            self._trials = []
            return
        check_version(snapshot, kind="WeightGP state", supported=[STATE_VERSION], hint="start a new search")
        self._trials = [[list(map(float, w)), str(s), float_from_json(v)]
                        for w, s, v in snapshot["trials"]]
