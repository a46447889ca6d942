"""DARTS evaluation networks (CIFAR and ImageNet), built from a genotype.

Faithful to the DARTS reference code (quark0/darts ``cnn/model.py``, ``cnn/operations.py``):
same ops, cell wiring, channel schedule, stems, auxiliary heads and drop-path, so parameter and
multiply-add counts match the published ones (see ``docs/darts.md``). Our own code; differences:

* ``forward`` returns the logits only; :meth:`DartsNetwork.forward_with_aux` returns
  ``(logits, aux_logits or None)`` as the reference ``forward`` does. Metrics want plain logits.
* ``drop_path_prob`` is a constructor argument and attribute (the reference sets the attribute
  from the training loop, which still works).
* The ImageNet network pools with ``AdaptiveAvgPool2d(1)`` instead of ``AvgPool2d(7)``: the same
  at 224x224, and defined at other resolutions.

Sizes (``channels`` C, ``layers`` L): reduction cells at ``L // 3`` and ``2 L // 3`` double the
channels; each cell outputs ``4 C_cell`` channels (nodes 2..5 concatenated).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from robot_ray.errors import RobotRayError
from robot_ray.networks import check_size
from robot_ray.networks.ops import AvgPool3x3
from robot_ray.spaces import darts as space

NETWORKS: tuple[str, ...] = ("cifar", "imagenet")


@dataclass(frozen=True)
class NetworkConfig:
    """Size of a DARTS network.

    Attributes:
        network: ``cifar`` (3x3 stem, 32x32 inputs) or ``imagenet`` (three stride-2 stem convs, 224x224).
        channels: initial channels C; layers: number of cells L; classes: output classes.
    """

    network: str
    channels: int
    layers: int
    classes: int


EVAL_CIFAR = NetworkConfig("cifar", 36, 20, 10)
"""The DARTS paper's CIFAR-10 evaluation network (DARTS-V2: 3.3 M params)."""
EVAL_IMAGENET = NetworkConfig("imagenet", 48, 14, 1000)
"""The DARTS paper's mobile-setting ImageNet network (DARTS-V2: 4.7 M params)."""
SEARCH_CIFAR = NetworkConfig("cifar", 16, 5, 10)
"""The small network RoBoT scores and trains during its DARTS search (hzf1174/RoBoT
``darts_space/search.py``: ``--init_channels 16 --layers 5``, no auxiliary head, drop-path 0 for
the metrics, metric batch 64). Reductions sit at cells 1 and 3."""

DEFAULTS: dict[str, NetworkConfig] = {"cifar": EVAL_CIFAR, "imagenet": EVAL_IMAGENET}


def resolve_config(
    network: str = "cifar", *, channels: int | None = None, layers: int | None = None, classes: int | None = None
) -> NetworkConfig:
    """A :class:`NetworkConfig` from the network kind's evaluation defaults and any overrides.

    Raises:
        RobotRayError: unknown network kind or a non-positive size.
    """
    if network not in DEFAULTS:
        raise RobotRayError(f"unknown DARTS network {network!r}; choose one of {', '.join(NETWORKS)}")
    base = DEFAULTS[network]
    cfg = NetworkConfig(
        network,
        base.channels if channels is None else int(channels),
        base.layers if layers is None else int(layers),
        base.classes if classes is None else int(classes),
    )
    check_size({"channels": cfg.channels, "layers": cfg.layers}, classes=cfg.classes)
    min_layers = 3  # two reduction cells need distinct positions L//3 < 2L//3
    if cfg.channels < 2 or cfg.channels % 2 or cfg.layers < min_layers or cfg.classes < 1:
        raise RobotRayError(
            f"invalid DARTS network size channels={cfg.channels}, layers={cfg.layers}, classes={cfg.classes}: "
            f"channels must be even and >= 2 (factorized reduce halves them), layers >= {min_layers}, classes >= 1"
        )
    return cfg


# ---------------------------------------------------------------- operations


class ReLUConvBN(nn.Sequential):
    """ReLU -> conv (no bias) -> BN: the cell preprocessing and ImageNet stem block."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(c_out),
        )


class DilConv(nn.Sequential):
    """ReLU -> dilated depthwise conv -> pointwise conv -> BN (``dil_conv_*``)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, dilation: int) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_in, kernel, stride, padding, dilation=dilation, groups=c_in, bias=False),
            nn.Conv2d(c_in, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
        )


class SepConv(nn.Sequential):
    """Two stacked depthwise-separable convs, the first carrying the stride (``sep_conv_*``)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int) -> None:
        super().__init__(
            DilConv(c_in, c_in, kernel, stride, padding, 1),
            DilConv(c_in, c_out, kernel, 1, padding, 1),
        )


class FactorizedReduce(nn.Module):
    """Halve the resolution with two offset stride-2 1x1 convs, concatenated (``skip_connect`` at stride 2)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        if c_out % 2:
            raise RobotRayError(f"FactorizedReduce needs an even number of output channels, got {c_out}")
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1))


def make_op(name: str, channels: int, stride: int) -> nn.Module:
    """One DARTS op on ``channels`` channels (stride 2 on reduction-cell edges from cell inputs)."""
    if name == "max_pool_3x3":
        return nn.MaxPool2d(3, stride=stride, padding=1)
    if name == "avg_pool_3x3":
        return AvgPool3x3(stride)
    if name == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(channels, channels)
    if name in ("sep_conv_3x3", "sep_conv_5x5"):
        k = int(name[-1])
        return SepConv(channels, channels, k, stride, k // 2)
    if name in ("dil_conv_3x3", "dil_conv_5x5"):
        k = int(name[-1])
        return DilConv(channels, channels, k, stride, k - 1, 2)  # dilation 2 keeps the size
    raise RobotRayError(f"unknown DARTS op {name!r}; known ops: {', '.join(space.OPS)}")


def drop_path(x: torch.Tensor, prob: float) -> torch.Tensor:
    """Zero whole samples with probability ``prob`` and rescale the rest (DARTS drop-path)."""
    keep = 1.0 - prob
    mask = torch.empty(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype).bernoulli_(keep)
    return x * mask / keep


# ---------------------------------------------------------------- cells and networks


class Cell(nn.Module):
    """One DARTS cell: preprocess both inputs to C channels, 4 nodes of 2 edges, concat nodes 2..5."""

    def __init__(
        self, edges: tuple[space.Edge, ...], c_prev_prev: int, c_prev: int, c: int, reduction: bool, reduction_prev: bool
    ) -> None:
        super().__init__()
        self.reduction = reduction
        # after a reduction cell s0 has twice the resolution of s1: bring it down with a factorized reduce
        self.preprocess0 = FactorizedReduce(c_prev_prev, c) if reduction_prev else ReLUConvBN(c_prev_prev, c, 1, 1, 0)
        self.preprocess1 = ReLUConvBN(c_prev, c, 1, 1, 0)
        self.indices = tuple(src for _, src in edges)
        self.ops = nn.ModuleList(make_op(op, c, 2 if reduction and src < 2 else 1) for op, src in edges)
        self.multiplier = len(space.CONCAT)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, drop_prob: float = 0.0) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for k in range(len(self.ops) // 2):
            total = 0
            for j in (2 * k, 2 * k + 1):
                op = self.ops[j]
                h = op(states[self.indices[j]])
                if self.training and drop_prob > 0.0 and not isinstance(op, nn.Identity):
                    h = drop_path(h, drop_prob)
                total = total + h
            states.append(total)
        return torch.cat([states[i] for i in space.CONCAT], dim=1)


class AuxiliaryHead(nn.Module):
    """Auxiliary classifier after the second reduction (8x8 on CIFAR, 14x14 on ImageNet inputs).

    As in the reference, the ImageNet head omits the BN after its 2x2 conv (kept for parity with
    the DARTS paper's experiments) and pools with stride 2 instead of 3.
    """

    def __init__(self, channels: int, classes: int, *, imagenet: bool) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.ReLU(inplace=False),
            nn.AvgPool2d(5, stride=2 if imagenet else 3, padding=0, count_include_pad=False),
            nn.Conv2d(channels, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=False),
            nn.Conv2d(128, 768, 2, bias=False),
        ]
        if not imagenet:
            layers.append(nn.BatchNorm2d(768))
        layers.append(nn.ReLU(inplace=False))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(768, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


class DartsNetwork(nn.Module):
    """A DARTS evaluation network: stem, L cells, global pooling, linear classifier.

    Args:
        genotype: a :class:`~robot_ray.spaces.darts.Genotype` or its string.
        config: sizes (see :data:`EVAL_CIFAR`, :data:`EVAL_IMAGENET`, :data:`SEARCH_CIFAR`).
        auxiliary: add the auxiliary head after cell ``2 L // 3`` (used in training only).
        drop_path_prob: drop-path probability applied in training mode to non-identity edges.

    Example::

        net = DartsNetwork(genotype_string, SEARCH_CIFAR)
        logits = net(torch.randn(2, 3, 32, 32))
    """

    def __init__(
        self,
        genotype: str | space.Genotype,
        config: NetworkConfig = EVAL_CIFAR,
        *,
        auxiliary: bool = False,
        drop_path_prob: float = 0.0,
    ) -> None:
        super().__init__()
        g = space.parse_genotype(genotype)
        cfg = resolve_config(config.network, channels=config.channels, layers=config.layers, classes=config.classes)
        if not 0.0 <= drop_path_prob < 1.0:
            raise RobotRayError(f"drop_path_prob must be in [0, 1), got {drop_path_prob}")
        self.config = cfg
        self.genotype = g
        self.drop_path_prob = float(drop_path_prob)
        c = cfg.channels
        imagenet = cfg.network == "imagenet"
        if imagenet:
            self.stem0 = nn.Sequential(
                nn.Conv2d(3, c // 2, 3, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(c // 2),
                nn.ReLU(inplace=False),
                nn.Conv2d(c // 2, c, 3, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(c),
            )
            self.stem1 = ReLUConvBN(c, c, 3, 2, 1)
            c_prev_prev, c_prev, c_curr = c, c, c
            reduction_prev = True  # stem0 output has twice stem1's resolution
        else:
            stem_channels = 3 * c
            self.stem = nn.Sequential(nn.Conv2d(3, stem_channels, 3, padding=1, bias=False), nn.BatchNorm2d(stem_channels))
            c_prev_prev, c_prev, c_curr = stem_channels, stem_channels, c
            reduction_prev = False
        self.aux_position = 2 * cfg.layers // 3
        reductions = {cfg.layers // 3, 2 * cfg.layers // 3}
        self.cells = nn.ModuleList()
        c_aux = c_prev
        for i in range(cfg.layers):
            reduction = i in reductions
            if reduction:
                c_curr *= 2
            cell = Cell(g.reduce if reduction else g.normal, c_prev_prev, c_prev, c_curr, reduction, reduction_prev)
            self.cells.append(cell)
            reduction_prev = reduction
            c_prev_prev, c_prev = c_prev, cell.multiplier * c_curr
            if i == self.aux_position:
                c_aux = c_prev
        self.auxiliary_head = AuxiliaryHead(c_aux, cfg.classes, imagenet=imagenet) if auxiliary else None
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, cfg.classes)

    def _features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.config.network == "imagenet":
            s0 = self.stem0(x)
            s1 = self.stem1(s0)
        else:
            s0 = s1 = self.stem(x)
        aux = None
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, self.drop_path_prob)
            if i == self.aux_position and self.auxiliary_head is not None and self.training:
                aux = self.auxiliary_head(s1)
        return s1, aux

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The last cell's NCHW output, before global pooling (what Zen-NAS reads)."""
        return self._features(x)[0]

    def forward_with_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(logits, aux_logits)``; ``aux_logits`` is None unless training with an auxiliary head."""
        features, aux = self._features(x)
        return self.classifier(self.global_pooling(features).flatten(1)), aux

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_aux(x)[0]


def build(
    arch: str | space.Genotype,
    *,
    network: str = "cifar",
    channels: int | None = None,
    layers: int | None = None,
    classes: int | None = None,
    auxiliary: bool = False,
    drop_path_prob: float = 0.0,
) -> DartsNetwork:
    """A DARTS network of ``arch``, evaluation-sized unless ``channels``/``layers``/``classes`` say otherwise."""
    cfg = resolve_config(network, channels=channels, layers=layers, classes=classes)
    return DartsNetwork(arch, cfg, auxiliary=auxiliary, drop_path_prob=drop_path_prob)


def build_for_metrics(
    arch: str, num_classes: int, *, channels: int = SEARCH_CIFAR.channels, layers: int = SEARCH_CIFAR.layers,
    network: str = "cifar",
) -> DartsNetwork:
    """Builder in the ``robot_ray.networks.build_network`` contract: RoBoT's search-phase size by default.

    No auxiliary head and no drop-path, as RoBoT computes its DARTS metrics.
    """
    return build(arch, network=network, channels=channels, layers=layers, classes=num_classes)


def input_size(network: str) -> tuple[int, int]:
    """The image size a network kind is designed for (32x32 CIFAR, 224x224 ImageNet)."""
    return (224, 224) if network == "imagenet" else (32, 32)
