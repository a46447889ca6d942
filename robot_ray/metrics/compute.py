"""Metric values for a list of architectures: the entry point of the precompute layer.

Builds each network once (weights from ``seed``), draws one data batch from ``seed`` and
computes all requested metrics with the fused engine. Raw values; NaN where undefined.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from robot_ray.errors import RobotRayError
from robot_ray.images import load_batch, num_classes
from robot_ray.metrics.registry import MetricRegistry
from robot_ray.networks import check_size

log = logging.getLogger(__name__)

SIZE_DEFAULTS: dict[str, dict[str, int]] = {
    "nb201": {"channels": 16, "cells": 5},
    "darts": {"channels": 16, "layers": 8},
}
"""Default network size per space, in the builder's own keywords (DARTS: search-phase C=16, 8 layers)."""


def network_size(space: str, *, channels: int | None = None, cells: int | None = None) -> dict[str, int]:
    """Builder keywords for a network size given as (channels, cells), whatever the space calls them.

    NB201 builders take ``channels``/``cells`` (C, N); DARTS builders take ``channels``/``layers``,
    so ``cells`` becomes ``layers`` there. ``None`` keeps the space's default.

    Raises:
        RobotRayError: no default size is known for ``space``, or a size is not positive.
    """
    if space not in SIZE_DEFAULTS:
        raise RobotRayError(f"no network size defaults for space {space!r}; known: {', '.join(SIZE_DEFAULTS)}")
    size = dict(SIZE_DEFAULTS[space])
    depth_key = "cells" if "cells" in size else "layers"
    for key, value in (("channels", channels), (depth_key, cells)):
        if value is not None:
            if int(value) < 1:
                raise RobotRayError(f"network {key} must be at least 1, got {value}")
            size[key] = int(value)
    check_size(size, flags={"channels": "--channels", depth_key: "--cells"})
    return size


def compute_archs(space: str, archs: Sequence[str], *, dataset: str, metrics: Sequence[str], batch_size: int,
                  seed: int, data_dir: str | os.PathLike | None, channels: int = 16, cells: int = 5,
                  device: str = "cpu", registry: MetricRegistry | None = None,
                  size: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Compute ``metrics`` for every architecture of ``archs``.

    Args:
        space: search space with a network builder (``robot_ray.networks.BUILDERS``).
        archs: architecture strings of that space.
        dataset: ``cifar10``, ``cifar100``, ``ImageNet16-120`` or ``digits``.
        metrics: metric names (built-in registry unless ``registry`` is given).
        batch_size: images in the metric batch (drawn from the train split by ``seed``).
        seed: seed of the batch, of the network weights and of the Gaussian passes.
        data_dir: shared data directory (unused for ``digits``).
        channels, cells: network size (NB201: C and N; DARTS: C and layers), mapped to the
            builder's keywords by :func:`network_size`; ignored when ``size`` is given.
        device: torch device of the passes.
        registry: metric registry; the eleven built-in metrics by default.
        size: builder keywords as they are (e.g. ``{"channels": 4, "layers": 2}`` for DARTS).

    Returns:
        DataFrame with column ``arch`` then one float64 column per metric, one row per arch in
        input order. A warning is logged for each metric that came out NaN for some archs.

    Raises:
        RobotRayError: unknown space, dataset or metric name, or a bad batch size.
    """
    if isinstance(archs, str):
        raise RobotRayError(f"archs must be a list of architecture strings, got one string {archs!r}")
    from robot_ray.metrics.catalog import default_registry
    from robot_ray.networks import get_builder

    (registry or default_registry()).resolve(metrics)  # name errors before any data is read
    get_builder(space)
    if size is None:
        size = network_size(space, channels=channels, cells=cells) if space in SIZE_DEFAULTS else \
            {"channels": channels, "cells": cells}
    batch = load_batch(dataset, data_dir, batch_size, seed)
    return compute_with_batch(space, archs, batch, num_classes=num_classes(dataset), metrics=metrics, seed=seed,
                              size=size, device=device, registry=registry)


def compute_with_batch(space: str, archs: Sequence[str], batch: tuple[Any, Any], *, num_classes: int,
                       metrics: Sequence[str], seed: int, size: Mapping[str, Any], device: str = "cpu",
                       registry: MetricRegistry | None = None) -> pd.DataFrame:
    """:func:`compute_archs` on a batch already loaded, so a long-lived worker loads it once.

    ``batch`` is ``(x, y)`` torch tensors from :func:`robot_ray.images.load_batch`; the result
    is the same frame as :func:`compute_archs` returns for the same batch and seed.
    """
    from robot_ray.metrics.catalog import default_registry
    from robot_ray.metrics.fused import compute_metrics
    from robot_ray.networks import build_network, get_builder

    reg = registry or default_registry()
    names = [m.name for m in reg.resolve(metrics)]
    get_builder(space)
    x, y = batch
    values = np.full((len(archs), len(names)), np.nan, dtype=np.float64)
    for i, arch in enumerate(archs):
        net = build_network(space, arch, num_classes, seed=seed, device=device, **size)
        row = compute_metrics(net, (x, y), names, device=device, seed=seed, registry=reg, consume=True)
        values[i] = [row[n] for n in names]
    frame = pd.DataFrame({"arch": pd.Series(list(archs), dtype="string")})
    for j, n in enumerate(names):
        frame[n] = values[:, j]
        bad = int(np.isnan(values[:, j]).sum())
        if bad:
            log.warning("metric %r is NaN for %d of %d %s archs (undefined, e.g. no input-output path, "
                        "or its pass failed; see earlier warnings)", n, bad, len(archs), space)
    return frame
