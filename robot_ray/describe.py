"""One architecture's vital statistics: canonical form, parameters, multiply-adds, network size.

Counting conventions live in :mod:`robot_ray.networks.counting` (conv + linear MACs for one
image; all parameters outside the auxiliary head). Networks are built on the ``meta`` device,
so describing an ImageNet-sized network allocates no weights.
"""

from __future__ import annotations

from typing import Any

from robot_ray.errors import RobotRayError
from robot_ray.spaces import check_space

DESCRIBED_SPACES: tuple[str, ...] = ("darts", "nb201")


def describe(
    space: str,
    arch: str,
    *,
    network: str = "cifar",
    channels: int | None = None,
    layers: int | None = None,
    classes: int | None = None,
) -> dict[str, Any]:
    """Describe ``arch`` of ``space`` built as ``network``.

    Returns:
        A JSON-ready dict with at least ``space``, ``arch`` (canonical), ``params``, ``flops``
        (conv + linear multiply-adds per image) and the network settings used.

    Raises:
        RobotRayError: unknown space or network, invalid arch or sizes, or a space whose
            networks are not available yet.
    """
    check_space(space)
    if space == "darts":
        return _describe_darts(arch, network=network, channels=channels, layers=layers, classes=classes)
    if space == "nb201":
        return _describe_nb201(arch, network=network, channels=channels, layers=layers, classes=classes)
    raise RobotRayError(f"describe supports spaces {', '.join(DESCRIBED_SPACES)}, not {space!r}")


def _describe_darts(arch: str, *, network: str, channels: int | None, layers: int | None, classes: int | None) -> dict[str, Any]:
    import torch

    from robot_ray.networks import darts as nets
    from robot_ray.networks.counting import count
    from robot_ray.spaces import darts

    genotype = darts.canonical_genotype(arch)
    cfg = nets.resolve_config(network, channels=channels, layers=layers, classes=classes)
    with torch.device("meta"):
        model = nets.DartsNetwork(genotype, cfg)
    h, w = nets.input_size(cfg.network)
    counts = count(model, (3, h, w))
    return {
        "space": "darts",
        "arch": darts.format_genotype(genotype),
        "arch_hash": darts.arch_hash(genotype),
        "network": cfg.network,
        "channels": cfg.channels,
        "layers": cfg.layers,
        "classes": cfg.classes,
        "input_shape": [3, h, w],
        "params": counts.params,
        "flops": counts.flops,
        "flops_unit": "multiply-adds of conv and linear layers per image (auxiliary head excluded)",
    }


def _describe_nb201(arch: str, *, network: str, channels: int | None, layers: int | None, classes: int | None) -> dict[str, Any]:
    import torch

    from robot_ray.networks import get_builder
    from robot_ray.networks.counting import count
    from robot_ray.spaces import nb201

    if network != "cifar":
        raise RobotRayError(f"NB201 networks take 32x32 inputs: use --network cifar, not {network!r}")
    canonical = nb201.canonical(arch)
    size = {"channels": 16 if channels is None else int(channels), "cells": 5 if layers is None else int(layers)}
    num_classes = 10 if classes is None else int(classes)
    if size["channels"] < 1 or size["cells"] < 1 or num_classes < 1:
        raise RobotRayError(f"invalid NB201 network size {size} with {num_classes} classes: all must be >= 1")
    with torch.device("meta"):
        model = get_builder("nb201")(canonical, num_classes, **size)
    counts = count(model, (3, 32, 32))
    return {
        "space": "nb201",
        "arch": canonical,
        "network": "cifar",
        "channels": size["channels"],
        "layers": size["cells"],
        "layers_meaning": "cells per stage (3 stages)",
        "classes": num_classes,
        "input_shape": [3, 32, 32],
        "params": counts.params,
        "flops": counts.flops,
        "flops_unit": "multiply-adds of conv and linear layers per image",
    }
