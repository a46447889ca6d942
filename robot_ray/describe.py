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
    # TODO(networks owner): NB201 networks come from robot_ray.networks.build_network; wire its
    # signature here once it lands (counts via robot_ray.networks.counting.count).
    raise RobotRayError(
        "describe for nb201 needs the NB201 network builder (robot_ray.networks.build_network), "
        "which is not available yet; describe supports --space darts today"
    )
