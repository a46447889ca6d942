"""Weight inheritance between two architectures of one topology (PRE-NAS's children).

PRE-NAS mutates ops only, so a child has its parent's topology: the same cells, the same edges
(in NB201, the same non-``none`` edges; in DARTS, each node's same two input nodes), the same
stem, reduction blocks and classifier. :func:`inherit_weights` copies into the child every
tensor whose part of the network the mutation left alone:

* everything outside the cells' edge ops (stem, DARTS preprocessing, NB201 ResNet blocks, last
  BN, classifier), by name;
* an edge whose op is unchanged (same cell, same input and output node, same op), by edge: the
  parameters and the BatchNorm statistics of its op;
* nothing of an edge whose op changed: it keeps the child's fresh initialisation, also when the
  new op happens to have tensors of the same shape (a 3x3 and a 5x5 separable convolution share
  their pointwise shapes, but not their meaning).

A parent of another network size (channels, cells, classes) is refused: a tensor the two
networks share by name or by edge with another shape is an error, never a partial load.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from robot_ray.errors import RobotRayError

_EDGE = re.compile(r"^(cells\.\d+\.ops\.\d+)(\..+)$")


@dataclass(frozen=True)
class Inheritance:
    """What :func:`inherit_weights` copied.

    Attributes:
        params_inherited: parameters (not buffers) copied from the parent.
        params_total: parameters of the child.
        tensors: tensors copied (parameters and buffers).
        reinitialised: module names of the child's edges that kept their fresh weights.
    """

    params_inherited: int
    params_total: int
    tensors: int
    reinitialised: tuple[str, ...]

    @property
    def fraction(self) -> float:
        """Share of the child's parameters that came from the parent."""
        return self.params_inherited / max(self.params_total, 1)


def edge_slots(space: str, arch: str, net: nn.Module) -> dict[str, tuple]:
    """Module name of every edge op of ``arch`` laid out on ``net``'s cells -> the edge's identity.

    The identity is (cell index, input node, output node, op, occurrence), so two architectures
    share an identity exactly where an edge survived a mutation. ``net`` gives the macro layout
    (which blocks are cells, which cells reduce); the edges are read from ``arch``.

    Raises:
        RobotRayError: an unknown space, or a network that is not ``space``'s.
    """
    slots: dict[str, tuple] = {}
    seen: Counter = Counter()
    if space == "nb201":
        from robot_ray.networks.nb201 import Cell
        from robot_ray.spaces.cell import EDGES
        from robot_ray.spaces.nb201 import parse_arch

        edges = [(src, dst, op) for (src, dst), op in zip(EDGES, parse_arch(arch)) if op != "none"]
        blocks = [b for b, m in enumerate(getattr(net, "cells", ())) if isinstance(m, Cell)]
        if not blocks:
            raise RobotRayError(f"{type(net).__name__} is not an NB201 network: it has no NB201 cells")
        for b in blocks:
            for k, (src, dst, op) in enumerate(edges):
                key = (b, src, dst, op)
                slots[f"cells.{b}.ops.{k}"] = (*key, seen[key])
                seen[key] += 1
        return slots
    if space == "darts":
        from robot_ray.spaces.darts import parse_genotype

        genotype = parse_genotype(arch)
        cells = getattr(net, "cells", None)
        if cells is None or not all(hasattr(c, "reduction") for c in cells):
            raise RobotRayError(f"{type(net).__name__} is not a DARTS network: it has no DARTS cells")
        for i, cell in enumerate(cells):
            for j, (op, src) in enumerate(genotype.reduce if cell.reduction else genotype.normal):
                key = (i, src, 2 + j // 2, op)
                slots[f"cells.{i}.ops.{j}"] = (*key, seen[key])
                seen[key] += 1
        return slots
    raise RobotRayError(f"weight inheritance knows the nb201 and darts spaces, not {space!r}")


@torch.no_grad()
def inherit_weights(child: nn.Module, child_arch: str, parent_state: Mapping[str, torch.Tensor],
                    parent_arch: str, space: str) -> Inheritance:
    """Copy into ``child`` (built for ``child_arch``) what it shares with a trained parent.

    Args:
        parent_state: the parent network's ``state_dict()`` (any device).
        parent_arch: the architecture ``parent_state`` was trained for.

    Returns:
        What was copied and which edges were re-initialised (see the module doc).

    Raises:
        RobotRayError: an unknown space or a network of another space.
    """
    child_slots = edge_slots(space, child_arch, child)
    by_identity = {ident: name for name, ident in edge_slots(space, parent_arch, child).items()}
    source_of = {name: by_identity.get(ident) for name, ident in child_slots.items()}
    params = {name for name, _ in child.named_parameters()}
    total = sum(p.numel() for p in child.parameters())
    copied, inherited = 0, 0
    own = child.state_dict()
    for name, tensor in own.items():
        match = _EDGE.match(name)
        if match and match.group(1) in source_of:
            src_module = source_of[match.group(1)]
            if src_module is None:
                continue  # a changed edge keeps its fresh weights
            src = src_module + match.group(2)
        else:
            src = name
        value = parent_state.get(src)
        if value is None:
            continue
        if value.shape != tensor.shape:
            raise RobotRayError(
                f"the parent's {src} has shape {tuple(value.shape)}, the child's {name} {tuple(tensor.shape)}: "
                "a parent of another network size (channels, cells, classes) cannot be inherited from"
            )
        tensor.copy_(value.to(device=tensor.device, dtype=tensor.dtype))
        copied += 1
        if name in params:
            inherited += tensor.numel()
    changed = tuple(name for name, src in source_of.items() if src is None)
    return Inheritance(params_inherited=inherited, params_total=total, tensors=copied, reinitialised=changed)
