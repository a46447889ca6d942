"""Metric values for a list of architectures: the entry point of the precompute layer.

Builds each network once (weights from ``seed``), draws one data batch from ``seed`` and
computes all requested metrics with the fused engine. Raw values; NaN where undefined.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from robot_ray.errors import RobotRayError
from robot_ray.images import load_batch, num_classes
from robot_ray.metrics.registry import MetricRegistry

log = logging.getLogger(__name__)


def compute_archs(space: str, archs: Sequence[str], *, dataset: str, metrics: Sequence[str], batch_size: int,
                  seed: int, data_dir: str | os.PathLike | None, channels: int = 16, cells: int = 5,
                  device: str = "cpu", registry: MetricRegistry | None = None) -> pd.DataFrame:
    """Compute ``metrics`` for every architecture of ``archs``.

    Args:
        space: search space with a network builder (``robot_ray.networks.BUILDERS``).
        archs: architecture strings of that space.
        dataset: ``cifar10``, ``cifar100``, ``ImageNet16-120`` or ``digits``.
        metrics: metric names (built-in registry unless ``registry`` is given).
        batch_size: images in the metric batch (drawn from the train split by ``seed``).
        seed: seed of the batch, of the network weights and of the Gaussian passes.
        data_dir: shared data directory (unused for ``digits``).
        channels, cells: network size passed to the builder (NB201: C and N).
        device: torch device of the passes.
        registry: metric registry; the eleven built-in metrics by default.

    Returns:
        DataFrame with column ``arch`` then one float64 column per metric, one row per arch in
        input order. A warning is logged for each metric that came out NaN for some archs.

    Raises:
        RobotRayError: unknown space, dataset or metric name, or a bad batch size.
    """
    from robot_ray.metrics.catalog import default_registry
    from robot_ray.metrics.fused import compute_metrics
    from robot_ray.networks import build_network, get_builder

    reg = registry or default_registry()
    names = [m.name for m in reg.resolve(metrics)]
    get_builder(space)
    if isinstance(archs, str):
        raise RobotRayError(f"archs must be a list of architecture strings, got one string {archs!r}")
    x, y = load_batch(dataset, data_dir, batch_size, seed)
    n_cls = num_classes(dataset)
    values = np.full((len(archs), len(names)), np.nan, dtype=np.float64)
    for i, arch in enumerate(archs):
        net = build_network(space, arch, n_cls, seed=seed, device=device, channels=channels, cells=cells)
        row = compute_metrics(net, (x, y), names, device=device, seed=seed, registry=reg)
        values[i] = [row[n] for n in names]
    frame = pd.DataFrame({"arch": pd.Series(list(archs), dtype="string")})
    for j, n in enumerate(names):
        frame[n] = values[:, j]
        bad = int(np.isnan(values[:, j]).sum())
        if bad:
            log.warning("metric %r is NaN for %d of %d %s archs (undefined, e.g. no input-output path, "
                        "or its pass failed; see earlier warnings)", n, bad, len(archs), space)
    return frame
