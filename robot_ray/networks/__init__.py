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


MAX_SIZE: dict[str, int] = {"channels": 128, "layers": 64, "cells": 32}
"""Largest network size built, per builder keyword, checked before anything is built (a
``--layers 100000`` network would otherwise take minutes and all memory before failing).

* ``channels`` (initial C) 128: published DARTS networks use 16 (search) to 36 (CIFAR) and 48
  (ImageNet mobile), NB201 uses 16; 128 leaves 2.7x headroom. Parameters grow as C^2, so a
  20-layer DARTS network at C=128 already has ~40 M parameters.
* ``layers`` (DARTS cells L) 64: DARTS searches with 5 or 8 cells and evaluates 20 (CIFAR) or 14
  (ImageNet); 64 is over 3x the deepest published one.
* ``cells`` (NB201 cells per stage N) 32: NB201 uses N=5 (15 cells); 32 is 96 cells.
"""
MAX_CLASSES = 100_000
"""Classifier width limit: ImageNet-21k, the widest common label set, has 21,841 classes."""


def check_size(size: Any, *, classes: int | None = None, flags: dict[str, str] | None = None) -> None:
    """Refuse a network size beyond :data:`MAX_SIZE` (or below 1) before any module is built.

    Args:
        size: builder keywords (``{"channels": 16, "layers": 8}``); keys without a limit pass.
        classes: classifier width to check as well.
        flags: how the user wrote each key (``{"layers": "--layers"}``), for the message.

    Raises:
        RobotRayError: a size that is not an integer in ``1..MAX_SIZE[key]``.
    """
    flags = flags or {}
    items = dict(size or {})
    if classes is not None:
        items["classes"] = classes
    for key, value in items.items():
        limit = MAX_CLASSES if key == "classes" else MAX_SIZE.get(key)
        if limit is None:
            continue
        name = flags.get(key, f"network {key}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            raise RobotRayError(f"{name} must be a whole number, got {value!r}")
        if not 1 <= int(value) <= limit:
            raise RobotRayError(
                f"{name} must be in 1..{limit}, got {value}: see robot_ray.networks.MAX_SIZE for why "
                "(DARTS uses 5-20 layers and 16-48 channels, NB201 5 cells per stage and 16 channels)"
            )


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
    check_size(size, classes=num_classes)
    with torch.device("meta"):
        net = builder(arch, num_classes, **size)
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    return materialize(net, gen, device=device)
