"""Seeded weight initialisation, so a network's weights depend on its seed and nothing else.

Networks are built on the ``meta`` device (no memory, no random draws) and then materialised
and initialised here from a ``torch.Generator``; the global torch RNG is never read or advanced.
"""

from __future__ import annotations

import math

import torch
from torch import nn

_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.GroupNorm)


def materialize(net: nn.Module, generator: torch.Generator, device: str | torch.device = "cpu") -> nn.Module:
    """Allocate a meta-built network and give it PyTorch's default init, then move it to ``device``.

    The draws happen on the CPU (``generator`` is a CPU generator), so a seed gives the same
    weights on every device; initialising on a CUDA device with a CPU generator fails in torch.
    """
    net = net.to_empty(device="cpu")
    init_default(net, generator)
    return net.to(device)


@torch.no_grad()
def init_default(net: nn.Module, generator: torch.Generator) -> None:
    """PyTorch's default init (conv/linear: kaiming-uniform a=sqrt(5), uniform bias; norms: 1, 0).

    The reference implementations of every metric score networks at this default init.
    """
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=generator)
            if m.bias is not None:
                fan_in = m.weight[0].numel()
                bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                nn.init.uniform_(m.bias, -bound, bound, generator=generator)
        elif isinstance(m, _NORMS):
            _reset_norm(m)


@torch.no_grad()
def init_gaussian(net: nn.Module, generator: torch.Generator) -> None:
    """Zen-NAS / SWAP init: conv and linear weights N(0, 1), zero biases, norms at 1 and 0."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.normal_(m.weight, generator=generator)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, _NORMS):
            _reset_norm(m)


def _reset_norm(m: nn.Module) -> None:
    if getattr(m, "weight", None) is not None:
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)
    if isinstance(m, nn.modules.batchnorm._NormBase) and m.track_running_stats:
        m.reset_running_stats()
