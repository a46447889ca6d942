"""Regularised SWAP of DARTS genotypes computed live: SWAP-NAS's fitness without a precomputed cache.

:class:`SwapScorer` is a callable ``codes -> scores`` for :func:`robot_ray.baselines.swapnas.run_live`:
it builds each genotype's metric network and runs the metric engine's ``swap_reg``
(:func:`robot_ray.metrics.compute.compute_with_batch`, the Gaussian pass of
:mod:`robot_ray.metrics.passes`), so a live score equals the cache's ``swap_reg`` for the same
genotype, batch, seed, network size, mu and sigma. Settings (:class:`SwapScoreSettings`) are the
engine's where it has them:

* the batch: ``batch_size`` images of the training split drawn by ``seed``
  (:func:`robot_ray.images.load_batch`); SWAP counts patterns over the first
  :data:`~robot_ray.metrics.passes.SWAP_SAMPLES` (16) of them, the paper's 16, so the default
  batch is 16 images and nothing more is loaded;
* the network: the metric network of ``robot-ray precompute --space darts``
  (:data:`~robot_ray.metrics.compute.SIZE_DEFAULTS`: C = 16, 8 cells, no auxiliary head), weights
  N(0, 1) from ``seed``. The paper's proxy is smaller (one cell); ``channels``/``layers`` set it;
* the regulariser: swap x exp(-(P_K - mu)^2 / sigma), P_K the metric network's parameters in
  thousands, mu and sigma the registry's (:data:`~robot_ray.metrics.catalog.SWAP_REG_MU`,
  :data:`~robot_ray.metrics.catalog.SWAP_REG_SIGMA`) unless given.

Nothing here imports Ray: the scorer runs in a Tune trial, a Ray task or a plain process
(``bench/swapnas_live_scoring.py``) alike.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from robot_ray.errors import RobotRayError
from robot_ray.metrics.catalog import SWAP_REG_MU, SWAP_REG_SIGMA
from robot_ray.metrics.compute import SIZE_DEFAULTS
from robot_ray.metrics.passes import SWAP_SAMPLES

SPACE = "darts"
METRIC = "swap_reg"


@dataclass(frozen=True)
class SwapScoreSettings:
    """How a live SWAP score is computed (recorded with a search; see the module doc)."""

    dataset: str = "cifar10"
    batch_size: int = SWAP_SAMPLES
    seed: int = 0
    channels: int = SIZE_DEFAULTS[SPACE]["channels"]
    layers: int = SIZE_DEFAULTS[SPACE]["layers"]
    mu: float = SWAP_REG_MU
    sigma: float = SWAP_REG_SIGMA

    def __post_init__(self) -> None:
        for key in ("batch_size", "channels", "layers"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise RobotRayError(f"live SWAP score: {key} must be an int >= 1, got {value!r}")
        if self.layers < 3:
            raise RobotRayError(f"live SWAP score: layers must be at least 3 (a DARTS network reduces twice), "
                                f"got {self.layers}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise RobotRayError(f"live SWAP score: seed must be an int >= 0, got {self.seed!r}")
        for key in ("mu", "sigma"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise RobotRayError(f"live SWAP score: {key} must be a number, got {value!r}")
        if not (np.isfinite(self.mu) and np.isfinite(self.sigma) and self.sigma > 0):
            raise RobotRayError(f"live SWAP score: mu and sigma must be finite and sigma > 0, got mu={self.mu}, "
                                f"sigma={self.sigma}")

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> SwapScoreSettings:
        """Settings from ``score_*`` keyword options (``score_batch_size=16``, ``score_layers=5``, ...)."""
        known = {f"score_{k}" for k in asdict(cls())} - {"score_dataset"}
        unknown = sorted(set(options) - known)
        if unknown:
            raise RobotRayError(f"unknown live SWAP score option(s) {', '.join(unknown)}; known: "
                                f"{', '.join(sorted(known))}")
        return cls(**{k[len("score_"):]: v for k, v in options.items()})


class SwapScorer:
    """``scorer(codes) -> swap_reg`` of DARTS compact codes, one float per genotype (NaN: failed).

    Args:
        settings: batch, seed, network size, mu and sigma (:class:`SwapScoreSettings`).
        data_dir: the shared data directory the batch is read from (unused for ``digits``).
        device: where the networks run (``"cpu"``, ``"cuda"``).

    Attributes:
        genotypes, seconds: genotypes scored and the seconds spent, for throughput figures.

    The batch is loaded on the first call, so a scorer is cheap to build and to ship to a worker.
    """

    def __init__(self, settings: SwapScoreSettings | None = None, *, data_dir=None, device: str = "cpu") -> None:
        self.settings = settings or SwapScoreSettings()
        self.data_dir = None if data_dir is None else str(data_dir)
        self.device = device
        self.genotypes = 0
        self.seconds = 0.0
        self._batch = None

    def size(self) -> dict[str, int]:
        """The metric network's builder keywords."""
        return {"channels": int(self.settings.channels), "layers": int(self.settings.layers)}

    def batch(self):
        """The ``(x, y)`` metric batch (loaded once)."""
        if self._batch is None:
            from robot_ray.images import load_batch

            s = self.settings
            self._batch = load_batch(s.dataset, self.data_dir, s.batch_size, s.seed)
        return self._batch

    def registry(self):
        from robot_ray.metrics.catalog import swap_reg_metric
        from robot_ray.metrics.registry import MetricRegistry

        return MetricRegistry([swap_reg_metric(self.settings.mu, self.settings.sigma)])

    def __call__(self, codes: np.ndarray) -> np.ndarray:
        from robot_ray.images import num_classes
        from robot_ray.metrics.compute import compute_with_batch
        from robot_ray.spaces import darts

        codes = np.asarray(codes, dtype=np.int8).reshape(-1, darts.CODE_LENGTH)
        t0 = time.perf_counter()
        s = self.settings
        frame = compute_with_batch(SPACE, darts.strings(codes), self.batch(), num_classes=num_classes(s.dataset),
                                   metrics=[METRIC], seed=s.seed, size=self.size(), device=self.device,
                                   registry=self.registry())
        self.seconds += time.perf_counter() - t0
        self.genotypes += len(codes)
        return frame[METRIC].to_numpy(dtype=np.float64)
