"""Fused computation: any subset of metrics with one run of each shared pass.

``grad_norm``, ``snip``, ``fisher``, ``grasp``, ``jacob_cov``, ``nwot`` and ``flops`` share one
forward on the real batch (plus the backward passes they need, sharing one autograd graph);
``synflow`` has its own linearised float64 pass; ``zen`` and ``swap``/``swap_reg`` share one
Gaussian-initialised copy; ``params`` needs no pass. Every pass works on a fresh copy of the
network, so the numbers equal those of each metric computed alone.

The grouping itself is :func:`robot_ray.metrics.registry.evaluate` (beside ``Metric``, so a
metric called alone needs nothing from here); this module resolves names against a registry,
the built-in one by default.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import nn

from robot_ray.metrics.catalog import default_registry
from robot_ray.metrics.registry import MetricRegistry, evaluate

_DEFAULT: MetricRegistry | None = None


def _default() -> MetricRegistry:
    global _DEFAULT  # a cache of an immutable default, not state anyone mutates
    if _DEFAULT is None:
        _DEFAULT = default_registry()
    return _DEFAULT


def compute_metrics(network: nn.Module, batch: Sequence[torch.Tensor], names: Iterable[str], *,
                    device: str | torch.device = "cpu", seed: int = 0,
                    registry: MetricRegistry | None = None, consume: bool = False) -> dict[str, float]:
    """Compute the named metrics of ``network`` with as few passes as possible.

    Args:
        network: the network at its initial weights; it is not modified (unless ``consume``).
        batch: ``(x, y)``, float32 NCHW inputs and int64 labels.
        names: metric names (see ``registry.names``).
        device: where the passes run.
        seed: seed of the Gaussian weights and inputs of ``zen``/``swap``.
        registry: metrics to look names up in; the built-in eleven by default.
        consume: the caller drops ``network`` afterwards, so the last pass may change it in
            place instead of copying it (the values are the same).

    Returns:
        ``{name: value}`` in the order asked, NaN where a metric is undefined or its pass failed
        (a warning names the metric and the error).

    Raises:
        RobotRayError: an unknown metric name.
    """
    return evaluate(network, batch, (registry or _default()).resolve(names), device=device, seed=seed,
                    consume=consume)
