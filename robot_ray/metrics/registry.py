"""An explicit registry of training-free metrics by name.

A :class:`Metric` says which shared pass computes it (``group``), what that pass must record
for it (``needs``) and how to turn the pass's records into one float (``finish``).
:func:`evaluate` runs each needed pass once for a list of metrics; it lives here, beside
``Metric``, so that a metric called alone needs nothing above this module
(:func:`robot_ray.metrics.fused.compute_metrics` is the same by name, against a registry).
Registries are plain objects: build one with :func:`robot_ray.metrics.catalog.default_registry`
or your own list; nothing is filled in at import time. This module does not import torch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from robot_ray.errors import RobotRayError

log = logging.getLogger(__name__)

_RECOVERABLE = (RuntimeError, ValueError, FloatingPointError, ArithmeticError, np.linalg.LinAlgError)

GROUPS: tuple[str, ...] = ("data", "synflow", "gaussian", "static")
"""Shared passes: ``data`` = default-init weights, BN in train mode, the real batch;
``synflow`` = |weights|, no BN, float64, an all-ones input; ``gaussian`` = N(0,1) weights
(Zen-NAS / SWAP init); ``static`` = no forward pass at all."""


@dataclass(frozen=True)
class Metric:
    """One metric and its documentation.

    Attributes:
        name: registry key.
        group: the pass that computes it (one of :data:`GROUPS`).
        needs: records the pass must keep for it (e.g. ``loss_grads``, ``relu_gram``).
        finish: ``finish(records, options) -> float`` (NaN when undefined).
        sign: how to read it; higher always means better predicted accuracy.
        passes: forward/backward passes it costs when computed alone.
        data: whether and how it depends on the data batch.
        reference: where the definition comes from.
        options: fixed hyper-parameters passed to ``finish``.
        revision: definition revision, raised whenever a change moves values beyond float
            rounding; metric caches record it so a resumed cache never mixes two definitions.
    """

    name: str
    group: str
    needs: frozenset[str]
    finish: Callable[[Mapping[str, Any], Mapping[str, Any]], float]
    sign: str
    passes: str
    data: str
    reference: str
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    revision: int = 1

    def __post_init__(self) -> None:
        assert self.group in GROUPS, self.group

    def __call__(self, model, batch, *, device: str = "cpu", seed: int = 0) -> float:
        """This metric alone: ``fn(model, batch, *, device) -> float``."""
        return evaluate(model, batch, [self], device=device, seed=seed)[self.name]


class MetricRegistry:
    """Metrics by name; registering a name twice raises."""

    def __init__(self, metrics: Iterable[Metric] = ()) -> None:
        self._metrics: dict[str, Metric] = {}
        for m in metrics:
            self.register(m)

    def register(self, metric: Metric) -> Metric:
        """Add ``metric``.

        Raises:
            RobotRayError: a metric of that name is already registered.
        """
        if metric.name in self._metrics:
            raise RobotRayError(
                f"metric {metric.name!r} is already registered; pick another name or build a new "
                "MetricRegistry without the old entry"
            )
        self._metrics[metric.name] = metric
        return metric

    def get(self, name: str) -> Metric:
        """The metric called ``name``.

        Raises:
            RobotRayError: unknown name (the message lists the known ones).
        """
        try:
            return self._metrics[name]
        except (KeyError, TypeError):
            raise RobotRayError(
                f"unknown metric {name!r}; known metrics: {', '.join(self._metrics)}"
            ) from None

    def resolve(self, names: Iterable[str]) -> list[Metric]:
        """Metrics for ``names`` in order, duplicates removed; raises on the first unknown name."""
        if isinstance(names, str):
            names = [names]
        out: dict[str, Metric] = {}
        for n in names:
            out.setdefault(n, self.get(n))
        return list(out.values())

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._metrics)

    def __contains__(self, name: object) -> bool:
        return name in self._metrics

    def __iter__(self) -> Iterator[Metric]:
        return iter(self._metrics.values())

    def __len__(self) -> int:
        return len(self._metrics)


def evaluate(network, batch: Sequence[Any], metrics: Sequence[Metric], *, device: Any = "cpu",
             seed: int = 0, consume: bool = False) -> dict[str, float]:
    """``{name: value}`` of ``metrics`` on ``network``, each shared pass run once for all of them.

    Arguments and NaN rules are those of :func:`robot_ray.metrics.fused.compute_metrics`, which
    resolves names to ``metrics`` and calls this. ``consume``: the caller drops ``network``
    afterwards; the Gaussian pass then runs last, on the network itself rather than a copy.
    """
    from robot_ray.metrics.passes import run_pass  # torch: only when something is computed

    x, y = batch
    groups: dict[str, list[Metric]] = {}
    for m in metrics:
        groups.setdefault(m.group, []).append(m)
    if consume and "gaussian" in groups:  # each pass starts from the same network: order is free
        groups["gaussian"] = groups.pop("gaussian")
    out: dict[str, float] = {}
    for group, members in groups.items():
        needs = frozenset().union(*(m.needs for m in members))
        try:
            rec = run_pass(group, network, x, y, needs, seed, device, consume=consume and group == "gaussian")
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
