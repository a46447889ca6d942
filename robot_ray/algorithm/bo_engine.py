"""What both BO engines of RoBoT's weights share: their settings, checked once, and the corners.

:class:`~robot_ray.algorithm.weight_gp.WeightGP` (the default, scikit-learn) and
:class:`~robot_ray.tune.weight_bo.WeightBO` (Ax) answer the same calls for
:class:`~robot_ray.tune.robot_searcher.RoBoTSearcher`: ``proposing(n)``, ``corner(n)``,
``next_weights(n)``, ``ucb(candidates)``, ``attach``/``complete``/``fail``/``abandon`` by trial
index, ``snapshot``/``load_snapshot`` (JSON). How they fit and propose is their own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from robot_ray.algorithm.induced import one_hot_weights
from robot_ray.errors import RobotRayError

BO_ENGINES = ("gp", "ax")
"""The engines by name (:data:`robot_ray.tune.robot_searcher.ENGINES`); here, free of Ray and Ax,
so that settings can be checked before anything heavy is imported."""
ACQUISITIONS = ("ucb", "logei")
INITIAL = ("corners", "sobol")
UCB_BETA = 2.576**2
"""GP-UCB exploration: mean + sqrt(beta) * std with sqrt(beta) = 2.576, the kappa of the
``bayes_opt`` UCB the paper's code uses. Exploration matters here: a(w) is piecewise constant,
so an exploitative acquisition keeps re-proposing weights that induce the same architecture."""


class BOEngine:
    """GP-UCB (or log-EI) over weight vectors ``w in [lo, hi]^M``; the caller owns every decision.

    Args:
        names: the metrics, in the column order of the metric matrix.
        seed: seeds the initial design and every proposal.
        mode: ``"max"`` or ``"min"`` of the observed values.
        init_trials: proposals before the GP takes over (corners included).
        initial: ``"corners"``: proposal n < M is the one-hot vector of metric n; ``"sobol"``:
            quasi-random points only (the paper).
        bounds: the range of every weight.
        acquisition: ``"ucb"`` (GP-UCB, as the paper) or ``"logei"`` (log expected improvement).
        ucb_beta: UCB's beta (see :data:`UCB_BETA`).
    """

    def __init__(
        self,
        names: Sequence[str],
        *,
        seed: int,
        mode: str = "max",
        init_trials: int = 1,
        initial: str = "corners",
        bounds: tuple[float, float] = (-1.0, 1.0),
        acquisition: str = "ucb",
        ucb_beta: float = UCB_BETA,
    ) -> None:
        if acquisition not in ACQUISITIONS:
            raise RobotRayError(f"unknown acquisition {acquisition!r}; choose one of {', '.join(ACQUISITIONS)}")
        if initial not in INITIAL:
            raise RobotRayError(f"unknown initial design {initial!r}; choose one of {', '.join(INITIAL)}")
        if not bounds[0] < bounds[1]:
            raise RobotRayError(f"weight bounds must satisfy low < high, got {bounds}")
        if init_trials < 1:
            raise RobotRayError(f"init_trials must be at least 1, got {init_trials}")
        if mode not in ("max", "min"):
            raise RobotRayError(f"mode must be 'max' or 'min', got {mode!r}")
        if not (isinstance(ucb_beta, (int, float)) and math.isfinite(ucb_beta) and ucb_beta >= 0):
            raise RobotRayError(f"ucb_beta must be a finite number >= 0, got {ucb_beta!r}")
        self.names = list(names)
        self.seed = int(seed)
        self.mode = mode
        self.init_trials = int(init_trials)
        self.initial = initial
        self.bounds = (float(bounds[0]), float(bounds[1]))
        self.acquisition = acquisition
        self.ucb_beta = float(ucb_beta)

    def corner(self, n: int) -> dict[str, float] | None:
        """Proposal n of the initial design if it is a one-hot weight vector (metric n alone)."""
        if self.initial != "corners" or n >= len(self.names):
            return None
        return {m: float(w) for m, w in zip(self.names, one_hot_weights(len(self.names), self.bounds)[n])}
