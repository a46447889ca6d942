"""The NAS-Bench-201 network for one cell string.

Macro skeleton of NAS-Bench-201 (``TinyNetwork`` / ``InferCell`` of the benchmark's code):
stem (3x3 conv, C channels, BN) -> N cells at C -> ResNet block (stride 2) -> N cells at 2C
-> ResNet block (stride 2) -> N cells at 4C -> BN-ReLU -> global average pool -> linear.
A cell has 4 nodes; node j = sum over i < j of op_ij(node i); node 3 is the output.
With C=16, N=5 this reproduces the benchmark's sizes, e.g. 1,531,546 parameters for the
all-``nor_conv_3x3`` cell on CIFAR-10 and 73,306 for a cell without parametric ops.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from robot_ray.networks.ops import NB201_OPS, OpFactory, ResNetBasicBlock
from robot_ray.spaces.cell import EDGES
from robot_ray.spaces.nb201 import parse_arch


class Cell(nn.Module):
    """A 4-node DAG; ``none`` edges are left out (they would only add zeros)."""

    def __init__(self, ops: Sequence[str], channels: int, op_table: dict[str, OpFactory] = NB201_OPS) -> None:
        super().__init__()
        self.edges: list[tuple[int, int]] = []
        self.ops = nn.ModuleList()
        for (src, dst), name in zip(EDGES, ops):
            if name == "none":
                continue
            self.edges.append((src, dst))
            self.ops.append(op_table[name](channels, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes: list[torch.Tensor | None] = [x, None, None, None]
        for (src, dst), op in zip(self.edges, self.ops):
            # edges are sorted by destination, so every source is final when it is read
            if nodes[src] is None:
                nodes[src] = x.mul(0.0)
            out = op(nodes[src])
            nodes[dst] = out if nodes[dst] is None else nodes[dst] + out
        return nodes[3] if nodes[3] is not None else x.mul(0.0)


class NB201Network(nn.Module):
    """NAS-Bench-201 network; ``forward`` gives logits, ``forward_features`` the map before pooling."""

    def __init__(self, cell_ops: Sequence[str], num_classes: int, *, channels: int = 16, cells: int = 5) -> None:
        super().__init__()
        c = channels
        self.stem = nn.Sequential(nn.Conv2d(3, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))
        blocks: list[nn.Module] = []
        c_prev = c
        for stage, width in enumerate((c, 2 * c, 4 * c)):
            if stage > 0:
                blocks.append(ResNetBasicBlock(c_prev, width, 2))
            blocks.extend(Cell(cell_ops, width) for _ in range(cells))
            c_prev = width
        self.cells = nn.Sequential(*blocks)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=False))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.lastact(self.cells(self.stem(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.global_pooling(self.forward_features(x)).flatten(1))


def build(arch: str, num_classes: int, *, channels: int = 16, cells: int = 5) -> NB201Network:
    """An NB201 network (uninitialised if built under a ``meta`` device context)."""
    return NB201Network(parse_arch(arch), num_classes, channels=channels, cells=cells)
