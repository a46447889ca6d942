"""NB201 network builder: sizes against NAS-Bench-201's published values, determinism, shapes."""

from __future__ import annotations

import pytest
import torch

from robot_ray.errors import RobotRayError
from robot_ray.metrics.passes import count_params, run_data_pass
from robot_ray.networks import build_network

ALL_CONV3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
MIXED = "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|"


@pytest.mark.parametrize(
    ("arch", "classes", "params"),
    [
        # NAS-Bench-201 'params' (in M) min/max per dataset: 0.073306 / 1.531546 (CIFAR-10),
        # 0.079156 / 1.537396 (CIFAR-100), 0.080456 (ImageNet16-120 min)
        (ALL_CONV3, 10, 1_531_546),
        (ALL_CONV3, 100, 1_537_396),
        (ALL_NONE, 10, 73_306),
        (ALL_NONE, 100, 79_156),
        (ALL_NONE, 120, 80_456),
    ],
)
def test_full_size_params_match_nb201(arch: str, classes: int, params: int) -> None:
    with torch.device("meta"):  # sizes only, no allocation
        from robot_ray.networks.nb201 import build

        net = build(arch, classes)
    assert count_params(net) == params


@pytest.mark.parametrize(("arch", "macs"), [(ALL_NONE, 7_783_050), (ALL_CONV3, 220_119_690)])
def test_full_size_flops_match_nb201(arch: str, macs: int) -> None:
    # NAS-Bench-201 'flop' (M) on CIFAR-10: 7.78305 (min) and 220.11969 (max)
    net = build_network("nb201", arch, 10)
    rec = run_data_pass(net, torch.zeros(1, 3, 32, 32), torch.zeros(1, dtype=torch.int64), {"macs"}, "cpu")
    assert rec["macs"] == macs


def test_small_variant_shapes_and_features() -> None:
    net = build_network("nb201", MIXED, 7, channels=4, cells=1)
    x = torch.randn(3, 3, 16, 16)
    assert net(x).shape == (3, 7)
    assert net.forward_features(x).shape == (3, 16, 4, 4)


def test_same_seed_same_weights_and_no_global_rng() -> None:
    state = torch.random.get_rng_state()
    a = build_network("nb201", MIXED, 10, channels=4, cells=1, seed=3)
    b = build_network("nb201", MIXED, 10, channels=4, cells=1, seed=3)
    c = build_network("nb201", MIXED, 10, channels=4, cells=1, seed=4)
    assert torch.equal(torch.random.get_rng_state(), state)
    pa, pb, pc = (torch.cat([p.flatten() for p in n.parameters()]) for n in (a, b, c))
    assert torch.equal(pa, pb)
    assert not torch.equal(pa, pc)


def test_none_edges_build_no_modules() -> None:
    net = build_network("nb201", ALL_NONE, 10, channels=4, cells=2)
    x = torch.randn(2, 3, 8, 8)
    out = net.forward_features(x)
    assert torch.all(out == 0)  # no input-output path: the features are constant


def test_unknown_space_raises() -> None:
    with pytest.raises(RobotRayError, match="no network builder"):
        build_network("nope", MIXED, 10)


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("size", [(8, 8), (7, 5), (2, 3), (1, 1)])
@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_cpu_avg_pool_equals_torch_pool(stride: int, size: tuple[int, int], layout: torch.memory_format) -> None:
    """The window-sum pool gives nn.AvgPool2d's values, gradients and second derivatives."""
    from torch import nn

    from robot_ray.networks.ops import AvgPool3x3

    gen = torch.Generator().manual_seed(stride * 100 + size[0] * 10 + size[1])
    ours, ref = AvgPool3x3(stride), nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)
    for dtype, tol in ((torch.float64, 1e-12), (torch.float32, 1e-5)):
        x = torch.randn(3, 4, *size, generator=gen).to(dtype).contiguous(memory_format=layout).requires_grad_(True)
        results = []
        for pool in (ours, ref):
            y = pool(x)
            (g,) = torch.autograd.grad(y.square().sum(), x, create_graph=True)
            (h,) = torch.autograd.grad(g.pow(3).sum(), x)
            results.append((y, g, h))
        for a, b in zip(*results):
            assert a.shape == b.shape
            torch.testing.assert_close(a, b, rtol=tol, atol=tol)
