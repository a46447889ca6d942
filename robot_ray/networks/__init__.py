"""Network builders by search space: ``build_network(space, arch, num_classes, ...)``.

Builders are looked up in :data:`BUILDERS` (space name -> ``"module:function"``), imported only
when used, so adding TNB101-micro or DARTS is one entry here plus one module with a
``build(arch, num_classes, **size) -> nn.Module`` function. A builder constructs the module
only; :func:`build_network` constructs it on the ``meta`` device and initialises the weights
from ``seed`` (no global RNG). Networks must provide ``forward(x) -> logits`` and
``forward_features(x) -> NCHW map before global pooling`` (Zen-NAS reads the latter).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from robot_ray.errors import RobotRayError

if TYPE_CHECKING:
    from torch import nn

BUILDERS: dict[str, str] = {
    "nb201": "robot_ray.networks.nb201:build",
    "darts": "robot_ray.networks.darts:build_for_metrics",
    "tnb101_micro": "robot_ray.networks.tnb101:build",
}
"""Space name -> ``"module:function"`` of its builder."""

NUM_CLASSES: dict[str, int] = {"cifar10": 10, "cifar100": 100, "ImageNet16-120": 120, "digits": 10}
"""Classifier width per dataset name."""


def get_builder(space: str) -> Callable[..., nn.Module]:
    """The builder function of a space.

    Raises:
        RobotRayError: no builder is registered for ``space``.
    """
    target = BUILDERS.get(space)
    if target is None:
        raise RobotRayError(
            f"no network builder for search space {space!r}; spaces with builders: {', '.join(sorted(BUILDERS))} "
            "(add one to robot_ray.networks.BUILDERS)"
        )
    module, _, func = target.partition(":")
    return getattr(importlib.import_module(module), func)


def build_network(space: str, arch: str, num_classes: int, *, seed: int = 0, device: str = "cpu",
                  **size: Any) -> nn.Module:
    """Build the network of ``arch`` with weights drawn deterministically from ``seed``.

    Args:
        space: search space name (a key of :data:`BUILDERS`).
        arch: architecture string of that space.
        num_classes: classifier width (see :data:`NUM_CLASSES`).
        seed: weight-init seed; same seed, same weights.
        device: where the weights live.
        **size: builder options, e.g. ``channels=16, cells=5`` for NB201.
    """
    import torch

    from robot_ray.networks.init import materialize

    builder = get_builder(space)
    with torch.device("meta"):
        net = builder(arch, num_classes, **size)
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    return materialize(net, gen, device=device)
