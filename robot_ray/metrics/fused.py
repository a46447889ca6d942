"""Fused computation: any subset of metrics with one run of each shared pass.

``grad_norm``, ``snip``, ``fisher``, ``grasp``, ``jacob_cov``, ``nwot`` and ``flops`` share one
forward on the real batch (plus the backward passes they need, sharing one autograd graph);
``synflow`` has its own linearised float64 pass; ``zen`` and ``swap``/``swap_reg`` share one
Gaussian-initialised copy; ``params`` needs no pass. Every pass works on a fresh copy of the
network, so the numbers equal those of each metric computed alone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import numpy as np
import torch
from torch import nn

from robot_ray.metrics.catalog import default_registry
from robot_ray.metrics.passes import count_params, run_data_pass, run_gaussian_pass, run_synflow_pass
from robot_ray.metrics.registry import Metric, MetricRegistry

log = logging.getLogger(__name__)

_RECOVERABLE = (RuntimeError, ValueError, FloatingPointError, ArithmeticError, np.linalg.LinAlgError)
_DEFAULT: MetricRegistry | None = None


def _default() -> MetricRegistry:
    global _DEFAULT  # a cache of an immutable default, not state anyone mutates
    if _DEFAULT is None:
        _DEFAULT = default_registry()
    return _DEFAULT


def compute_metrics(network: nn.Module, batch: Sequence[torch.Tensor], names: Iterable[str], *,
                    device: str | torch.device = "cpu", seed: int = 0,
                    registry: MetricRegistry | None = None) -> dict[str, float]:
    """Compute the named metrics of ``network`` with as few passes as possible.

    Args:
        network: the network at its initial weights; it is not modified.
        batch: ``(x, y)``, float32 NCHW inputs and int64 labels.
        names: metric names (see ``registry.names``).
        device: where the passes run.
        seed: seed of the Gaussian weights and inputs of ``zen``/``swap``.
        registry: metrics to look names up in; the built-in eleven by default.

    Returns:
        ``{name: value}`` in the order asked, NaN where a metric is undefined or its pass failed
        (a warning names the metric and the error).

    Raises:
        RobotRayError: an unknown metric name.
    """
    metrics = (registry or _default()).resolve(names)
    x, y = batch
    groups: dict[str, list[Metric]] = {}
    for m in metrics:
        groups.setdefault(m.group, []).append(m)
    out: dict[str, float] = {}
    for group, members in groups.items():
        needs = frozenset().union(*(m.needs for m in members))
        try:
            rec = _run(group, network, x, y, needs, seed, device)
        except _RECOVERABLE as err:
            log.warning("metric pass %r failed for %s: %s: %s; reporting NaN", group,
                        ", ".join(m.name for m in members), type(err).__name__, err)
            out.update({m.name: float("nan") for m in members})
            continue
        for m in members:
            try:
                out[m.name] = float(m.finish(rec, m.options))
            except _RECOVERABLE as err:
                log.warning("metric %r failed: %s: %s; reporting NaN", m.name, type(err).__name__, err)
                out[m.name] = float("nan")
    return {m.name: out[m.name] for m in metrics}


def _run(group: str, network: nn.Module, x: torch.Tensor, y: torch.Tensor, needs: frozenset[str],
         seed: int, device: str | torch.device) -> dict:
    if group == "data":
        return run_data_pass(network, x, y, needs, device)
    if group == "synflow":
        return run_synflow_pass(network, tuple(x.shape), device)
    if group == "gaussian":
        return run_gaussian_pass(network, x, needs, seed, device)
    assert group == "static", group
    return {"params": count_params(network)}
