"""The TransNAS-Bench-101 micro encoder (``64-41414-a_bc_def``), and its params / multiply-adds.

Built from the facts of the official code (yawen-d/TransNASBench ``lib/models/net_infer``, also
vendored by NASLib ``search_spaces/transbench101/tnb101``), written anew here:

* stem: conv3x3(3 -> 32, stride 2) + BN, then ReLU-conv3x3(32 -> 64, stride 2)-BN (input / 4);
* macro skeleton ``41414``: five layers of two cells each; a ``4`` layer doubles the width and
  halves the resolution in its first cell, a ``1`` layer keeps both. Widths 128, 128, 256, 256,
  512; the output is ``512 x H/32 x W/32`` (the ``backbone`` structure: no pooling, no head);
* cell: node j sums its edges from nodes i < j and the cell returns node 3. Edges leaving node 0
  map ``C_in -> C_out`` with the cell's stride; the others map ``C_out -> C_out``, stride 1;
* ops: ``none`` = zeros of the right shape, ``skip_connect`` = identity, or a factorized
  reduce (ReLU, two 1x1 convs of C_out/2 each, one on the input shifted by a pixel, concat, BN)
  when the edge changes width or stride, ``nor_conv_kxk`` = ReLU-conv-BN.

Task decoders (linear heads, segmentation / generative decoders, the jigsaw siamese head) take the
fixed ``512 x H/32 x W/32`` output, so they add the same amount to every cell and are left out;
``num_classes`` adds an optional pooled linear head for classification-style use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from robot_ray.spaces.tnb101 import BASE_CHANNELS, MACRO_CODE, OPS, parse_arch
from robot_ray.spaces.cell import EDGES

DEFAULT_INPUT_SIZE = 224
"""Input side for FLOPs: the resolution TransNAS-Bench-101 profiles its encoders at
(``tools/get_model_info.py``); training used 256. Every stage divides 224 and 256 exactly, so all
multiply-adds scale by the same factor and the ranking of cells does not depend on the choice."""


class ReLUConvBN(nn.Module):
    """ReLU, bias-free conv, BatchNorm: the parametric edge op."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class FactorizedReduce(nn.Module):
    """Skip connection across a width or stride change: two half-width 1x1 convs, one shifted."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        if c_out % 2:
            raise ValueError(f"FactorizedReduce needs an even output width, got {c_out}")
        self.relu = nn.ReLU(inplace=False)
        self.conv_a = nn.Conv2d(c_in, c_out // 2, 1, stride=stride, bias=False)
        self.conv_b = nn.Conv2d(c_in, c_out - c_out // 2, 1, stride=stride, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        shifted = nn.functional.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:]
        return self.bn(torch.cat([self.conv_a(x), self.conv_b(shifted)], dim=1))


class Zero(nn.Module):
    """The ``none`` op: zeros shaped like the edge's output (so node sums keep their shape)."""

    def __init__(self, c_out: int, stride: int) -> None:
        super().__init__()
        self.c_out = c_out
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        s = self.stride
        return x.new_zeros((n, self.c_out, (h + s - 1) // s, (w + s - 1) // s))


def make_edge(op: str, c_in: int, c_out: int, stride: int) -> nn.Module:
    """One edge op of the micro cell."""
    if op == "none":
        return Zero(c_out, stride)
    if op == "skip_connect":
        return nn.Identity() if stride == 1 and c_in == c_out else FactorizedReduce(c_in, c_out, stride)
    if op == "nor_conv_1x1":
        return ReLUConvBN(c_in, c_out, 1, stride)
    if op == "nor_conv_3x3":
        return ReLUConvBN(c_in, c_out, 3, stride)
    raise ValueError(f"unknown TNB101-micro op {op!r}; known ops: {', '.join(OPS)}")


class MicroCell(nn.Module):
    """Four-node cell; six edges in :data:`robot_ray.spaces.cell.EDGES` order."""

    def __init__(self, cell: Sequence[str], c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList(
            make_edge(op, c_in, c_out, stride) if src == 0 else make_edge(op, c_out, c_out, 1)
            for (src, _), op in zip(EDGES, cell)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for dst in (1, 2, 3):
            nodes.append(sum(self.edges[k](nodes[src]) for k, (src, d) in enumerate(EDGES) if d == dst))
        return nodes[3]


class TNB101MicroEncoder(nn.Module):
    """The TransNAS-Bench-101 micro backbone for one cell.

    Args:
        cell: six op names, or a cell string in either spelling.
        base_channels: stem output width (64 in the benchmark).
        macro: layer codes; 1 keep, 2 double width, 3 halve resolution, 4 both (``41414``).
        num_classes: when given, add global average pooling and a linear head.
    """

    def __init__(
        self,
        cell: Sequence[str] | str,
        *,
        base_channels: int = BASE_CHANNELS,
        macro: str = MACRO_CODE,
        num_classes: int | None = None,
    ) -> None:
        super().__init__()
        ops = parse_arch(cell) if isinstance(cell, str) else tuple(cell)
        self.cell = ops
        self.stem = nn.Sequential(
            nn.Conv2d(3, base_channels // 2, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(base_channels // 2),
            ReLUConvBN(base_channels // 2, base_channels, 3, 2),
        )
        layers, width = [], base_channels
        for code in macro:
            kind = int(code)
            out = width * 2 if kind in (2, 4) else width
            stride = 2 if kind in (3, 4) else 1
            layers.append(nn.Sequential(MicroCell(ops, width, out, stride), MicroCell(ops, out, out, 1)))
            width = out
        self.layers = nn.Sequential(*layers)
        self.out_channels = width
        self.head = None if num_classes is None else nn.Linear(width, num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        """Kaiming (fan_out) convs and unit BatchNorm, as the benchmark trained them."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The ``512 x H/32 x W/32`` map that task decoders (and Zen-NAS) read."""
        return self.layers(self.stem(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.forward_features(x)
        if self.head is not None:
            x = self.head(x.mean(dim=(2, 3)))
        return x


def build(arch: str, num_classes: int, *, channels: int = BASE_CHANNELS) -> TNB101MicroEncoder:
    """Builder for :func:`robot_ray.networks.build_network`: encoder + pooled linear head."""
    return TNB101MicroEncoder(arch, base_channels=channels, num_classes=num_classes)


# ---------------------------------------------------------------- counting


def count_params(model: nn.Module) -> int:
    """Number of parameters (conv weights, BatchNorm affine weights and biases, linear)."""
    return sum(p.numel() for p in model.parameters())


def count_macs(model: nn.Module, input_size: int = DEFAULT_INPUT_SIZE) -> int:
    """Multiply-adds of one ``3 x input_size x input_size`` image through convs and linears.

    Counted by a forward pass on the ``meta`` device (shapes only, no data, no arithmetic):
    a conv costs ``out_elements * C_in/groups * kh * kw``, a linear ``in * out`` per sample.
    BatchNorm, ReLU, node sums, padding and bias adds are not counted. The model must live on
    the meta device (build it under ``torch.device("meta")``).
    """
    total = 0

    def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            total += output.numel() * (module.in_channels // module.groups) * kh * kw
        else:
            total += output.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        with torch.no_grad():
            model(torch.empty(1, 3, input_size, input_size, device="meta"))
    finally:
        for h in handles:
            h.remove()
    return total


def count_cell(cell: Sequence[str] | str, input_size: int = DEFAULT_INPUT_SIZE) -> tuple[int, int]:
    """``(params, macs)`` of one cell's encoder, built and run on the meta device."""
    with torch.device("meta"):
        model = TNB101MicroEncoder(cell)
    return count_params(model), count_macs(model, input_size)


@dataclass(frozen=True)
class CostTable:
    """Per-edge costs from which any cell's totals are sums (edges never share modules).

    Attributes:
        base_params, base_macs: the stem (the all-``none`` network).
        edge_params, edge_macs: int64 ``(6, 4)``: extra cost of op ``OPS[k]`` on edge ``e``,
            summed over the 10 cells of the network.
    """

    base_params: int
    base_macs: int
    edge_params: np.ndarray
    edge_macs: np.ndarray

    def totals(self, digits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Params and MACs of cells given as op digits, int ``(N, 6)`` -> two int64 ``(N,)``."""
        d = np.asarray(digits, dtype=np.int64)
        rows = np.arange(len(EDGES))
        return (
            self.base_params + self.edge_params[rows, d].sum(axis=1),
            self.base_macs + self.edge_macs[rows, d].sum(axis=1),
        )


@lru_cache(maxsize=4)
def cost_table(input_size: int = DEFAULT_INPUT_SIZE) -> CostTable:
    """Measure the per-edge costs with 19 meta-device networks (one per edge and op, plus base).

    Every edge module's shape depends only on its position (node features always have the
    cell's output width and resolution), so a cell's cost is the base plus its edges' costs;
    tests check this against whole-network counts. Cached per input size (arrays read-only).
    """
    base = ("none",) * len(EDGES)
    base_params, base_macs = count_cell(base, input_size)
    edge_params = np.zeros((len(EDGES), len(OPS)), dtype=np.int64)
    edge_macs = np.zeros_like(edge_params)
    for e in range(len(EDGES)):
        for k, op in enumerate(OPS[1:], start=1):
            cell = list(base)
            cell[e] = op
            p, m = count_cell(cell, input_size)
            edge_params[e, k], edge_macs[e, k] = p - base_params, m - base_macs
    edge_params.flags.writeable = False
    edge_macs.flags.writeable = False
    return CostTable(base_params, base_macs, edge_params, edge_macs)
