"""Parameter and multiply-add counts of a network, on the meta device (no memory, no compute).

What is counted, exactly:

* ``params``: every parameter (conv and linear weights and biases, BN affine weights and
  biases) outside modules whose qualified name contains ``auxiliary``, as DARTS'
  ``count_parameters_in_MB`` does. BN running statistics are buffers, not parameters.
* ``flops``: multiply-accumulates (MACs, "multiply-adds") of ``nn.Conv2d`` and ``nn.Linear``
  for one input image: a conv costs ``H_out * W_out * C_out * (C_in / groups) * k_h * k_w``, a
  linear ``in * out``. Biases, BN, activations, pooling, the additions inside cells,
  concatenation and drop-path are excluded, as is the auxiliary head (training only).

The forward pass runs on the ``meta`` device so even an ImageNet-sized network costs
milliseconds; the model is copied there, so the caller's model is untouched.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

EXCLUDED = "auxiliary"
"""Modules and parameters whose qualified name contains this are not counted."""


@dataclass(frozen=True)
class Counts:
    """``params``: parameters counted; ``flops``: conv + linear multiply-adds per image."""

    params: int
    flops: int


def count_params(model: nn.Module, *, exclude: str = EXCLUDED) -> int:
    """Number of parameters outside modules named like ``exclude``."""
    return sum(p.numel() for name, p in model.named_parameters() if exclude not in name)


def count(model: nn.Module, input_shape: tuple[int, int, int], *, exclude: str = EXCLUDED) -> Counts:
    """Params and conv + linear MACs of one ``(C, H, W)`` input through ``model`` in eval mode.

    The model's own ``forward`` is used, so only the modules it actually calls are counted
    (an auxiliary head is not called in eval mode, and is also excluded by name).
    """
    params = count_params(model, exclude=exclude)
    meta = copy.deepcopy(model).to("meta").eval()
    macs = 0

    def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal macs
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            per_out = (module.in_channels // module.groups) * kh * kw
            macs += int(output[0].numel()) * per_out
        else:  # nn.Linear
            macs += int(output[0].numel()) * module.in_features

    handles = [
        m.register_forward_hook(hook)
        for name, m in meta.named_modules()
        if isinstance(m, (nn.Conv2d, nn.Linear)) and exclude not in name
    ]
    try:
        with torch.no_grad():
            meta(torch.empty((1, *input_shape), device="meta"))
    finally:
        for h in handles:
            h.remove()
    return Counts(params=params, flops=macs)
