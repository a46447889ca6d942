"""Cell operations shared by the NB201, TNB101-micro and DARTS network builders.

Each op keeps its own ``nn.ReLU`` module (never a functional relu) because activation-pattern
metrics (NWOT, SWAP) find activations by hooking ``nn.ReLU`` modules, as their reference code
does. Layer layouts follow NAS-Bench-201's ``cell_operations.py`` (ReLU -> Conv -> BN; average
pooling without padded zeros; a ResNet basic block between stages).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

OpFactory = Callable[[int, int, int], nn.Module]
"""``factory(C_in, C_out, stride) -> module`` for one edge of a cell."""


class ReLUConvBN(nn.Sequential):
    """ReLU, then a bias-free conv, then BatchNorm (NB201's ``nor_conv_kxk``)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, padding: int = 0,
                 dilation: int = 1, affine: bool = True) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, dilation=dilation, bias=False),
            nn.BatchNorm2d(c_out, affine=affine),
        )


class Zero(nn.Module):
    """The ``none`` op: an all-zero tensor of the output shape (cells skip it when they can)."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.c_out, self.stride = c_out, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1 and x.shape[1] == self.c_out:
            return x.mul(0.0)
        n, _, h, w = x.shape
        return x.new_zeros(n, self.c_out, (h + self.stride - 1) // self.stride, (w + self.stride - 1) // self.stride)


class FactorizedReduce(nn.Module):
    """Halve resolution with two offset 1x1 stride-2 convs (skip_connect across a stride)."""

    def __init__(self, c_in: int, c_out: int, affine: bool = True) -> None:
        super().__init__()
        half = c_out // 2
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(c_in, half, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out - half, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        y = nn.functional.pad(x[:, :, 1:, 1:], (0, 1, 0, 1))
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(y)], dim=1))


class AvgPool3x3(nn.Module):
    """``nn.AvgPool2d(3, stride, padding=1, count_include_pad=False)``, computed fast on CPU.

    PyTorch's CPU kernel for this pool on NCHW tensors is 4-10x slower than a 3x3 convolution
    of the same tensor, and NB201/DARTS cells pool at full resolution, so on CPU the window sum
    is a depthwise convolution with a ones kernel (a constant, not a parameter: no metric,
    parameter count or FLOP count sees it), scaled by one over the unpadded window size. Equal
    to the pool up to float rounding; other devices use the pool itself.
    """

    def __init__(self, stride: int = 1) -> None:
        super().__init__()
        self.stride = int(stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "cpu" or x.dim() != 4:
            return F.avg_pool2d(x, 3, self.stride, 1, count_include_pad=False)
        h, w = x.shape[-2:]
        window = _window_sizes(h, self.stride, x)[:, None] * _window_sizes(w, self.stride, x)[None, :]
        return _BoxSum.apply(x, self.stride, False, None) / window

    def extra_repr(self) -> str:
        return f"kernel_size=3, stride={self.stride}, padding=1, count_include_pad=False"


class _BoxSum(torch.autograd.Function):
    """Per-channel 3x3 window sums (zero padding 1) and, with ``transpose``, their adjoint.

    Each is the other's backward, so first and second derivatives are one grouped convolution
    each; autograd's own double backward of a grouped convolution loops over the groups.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, stride: int, transpose: bool,
                in_size: tuple[int, int] | None) -> torch.Tensor:
        """``in_size``: the spatial size the adjoint restores (the window sum's input); unused by the sum."""
        ctx.stride, ctx.transpose, ctx.in_size = stride, transpose, tuple(x.shape[-2:])
        ones = x.new_ones(x.shape[1], 1, 3, 3)
        if not transpose:
            return F.conv2d(x, ones, stride=stride, padding=1, groups=x.shape[1])
        if stride == 1:  # a symmetric kernel: the adjoint of the window sum is the window sum
            return F.conv2d(x, ones, padding=1, groups=x.shape[1])
        extra = tuple(n - ((m - 1) * stride + 1) for n, m in zip(in_size, x.shape[-2:]))
        return F.conv_transpose2d(x, ones, stride=stride, padding=1, output_padding=extra, groups=x.shape[1])

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None, None, None]:
        return _BoxSum.apply(grad, ctx.stride, not ctx.transpose, ctx.in_size), None, None, None


def _window_sizes(size: int, stride: int, like: torch.Tensor) -> torch.Tensor:
    """In-bounds taps of each output position of a padded 3-tap window along one axis."""
    start = torch.arange(0, size, stride, device=like.device) - 1
    return ((start + 2).clamp(max=size - 1) - start.clamp(min=0) + 1).to(like.dtype)


class AvgPool(nn.Module):
    """3x3 average pool (padding not counted); a ReLUConvBN 1x1 first when channels change."""

    def __init__(self, c_in: int, c_out: int, stride: int, affine: bool = True) -> None:
        super().__init__()
        self.preprocess = ReLUConvBN(c_in, c_out, 1, affine=affine) if c_in != c_out else None
        self.pool = AvgPool3x3(stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.preprocess(x) if self.preprocess is not None else x)


def skip_connect(c_in: int, c_out: int, stride: int) -> nn.Module:
    """Identity, or a factorized reduction when shape changes."""
    if stride == 1 and c_in == c_out:
        return nn.Identity()
    return FactorizedReduce(c_in, c_out)


class ResNetBasicBlock(nn.Module):
    """Two ReLUConvBN 3x3 plus a shortcut; NB201's reduction block between stages."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        assert stride in (1, 2), stride
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        if stride == 2:
            self.downsample: nn.Module | None = nn.Sequential(
                nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
                nn.Conv2d(c_in, c_out, 1, bias=False),
            )
        elif c_in != c_out:
            self.downsample = ReLUConvBN(c_in, c_out, 1)
        else:
            self.downsample = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = self.downsample(x) if self.downsample is not None else x
        return residual + self.conv_b(self.conv_a(x))


NB201_OPS: dict[str, OpFactory] = {
    "none": Zero,
    "skip_connect": skip_connect,
    "nor_conv_1x1": lambda ci, co, s: ReLUConvBN(ci, co, 1, s, 0),
    "nor_conv_3x3": lambda ci, co, s: ReLUConvBN(ci, co, 3, s, 1),
    "avg_pool_3x3": AvgPool,
}
"""The five NAS-Bench-201 edge ops (TNB101-micro uses the first four)."""
