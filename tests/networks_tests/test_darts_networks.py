"""DARTS networks: published sizes of DARTS-V2, and a tiny forward/backward pass."""

from __future__ import annotations

import pytest
import torch

from robot_ray.describe import describe
from robot_ray.errors import RobotRayError
from robot_ray.networks import darts as nets
from robot_ray.networks.counting import count

V2 = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], "
    "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"
)


@pytest.fixture(autouse=True)
def _one_thread(torch_one_thread):
    yield


def test_darts_v2_cifar_matches_paper():
    d = describe("darts", V2)  # 36 channels, 20 layers, 10 classes, 32x32
    assert (d["channels"], d["layers"], d["classes"], d["input_shape"]) == (36, 20, 10, [3, 32, 32])
    assert d["params"] == pytest.approx(3.3e6, rel=0.02)
    assert d["flops"] == pytest.approx(528e6, rel=0.02)


def test_darts_v2_imagenet_matches_paper():
    d = describe("darts", V2, network="imagenet")
    assert (d["channels"], d["layers"], d["classes"]) == (48, 14, 1000)
    assert d["params"] == pytest.approx(4.7e6, rel=0.02)
    assert 500e6 < d["flops"] < 574e6  # conv + linear only: below the paper's 574 M (docs/darts.md)


def test_auxiliary_head_not_counted():
    with torch.device("meta"):
        plain = nets.build(V2, channels=8, layers=6)
        aux = nets.build(V2, channels=8, layers=6, auxiliary=True)
    assert count(plain, (3, 32, 32)) == count(aux, (3, 32, 32))
    assert sum(p.numel() for p in aux.parameters()) > count(aux, (3, 32, 32)).params


def test_tiny_network_forward_backward_with_drop_path_and_aux():
    torch.manual_seed(0)
    net = nets.build(V2, channels=8, layers=5, auxiliary=True, drop_path_prob=0.3)
    net.train()
    x = torch.randn(4, 3, 32, 32)
    logits, aux = net.forward_with_aux(x)
    assert logits.shape == aux.shape == (4, 10)
    (logits.logsumexp(1).mean() + 0.4 * aux.logsumexp(1).mean()).backward()
    assert all(p.grad is not None for p in net.parameters())
    net.eval()
    out = net(x)
    assert out.shape == (4, 10) and torch.isfinite(out).all()
    assert torch.equal(out, net(x))  # no drop-path in eval


def test_search_config_and_imagenet_forward():
    net = nets.DartsNetwork(V2, nets.SEARCH_CIFAR).eval()
    assert [c.reduction for c in net.cells] == [False, True, False, True, False]
    small = nets.build(V2, network="imagenet", channels=8, layers=3, classes=5).eval()
    assert small(torch.randn(1, 3, 64, 64)).shape == (1, 5)


def test_bad_sizes():
    with pytest.raises(RobotRayError, match="channels must be even"):
        nets.build(V2, channels=7)
    with pytest.raises(RobotRayError, match="unknown DARTS network"):
        nets.build(V2, network="mobile")


def test_cli_describe():
    import json

    from click.testing import CliRunner

    from robot_ray.cli import main

    result = CliRunner().invoke(main, ["describe", "--space", "darts", "--arch", V2, "--channels", "8", "--layers", "5"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["layers"] == 5
    bad = CliRunner().invoke(main, ["describe", "--space", "darts", "--arch", "Genotype("])
    assert bad.exit_code == 2 and "malformed DARTS genotype" in bad.output


def test_metric_builder_contract():
    net = nets.build_for_metrics(V2, 100)  # RoBoT's search-phase size: C=16, L=5
    assert (net.config.channels, net.config.layers, net.auxiliary_head) == (16, 5, None)
    x = torch.randn(2, 3, 32, 32)
    assert net.forward_features(x).shape == (2, 4 * 4 * 16, 8, 8)
    assert net(x).shape == (2, 100)


def test_describe_nb201_matches_benchmark_sizes():
    d = describe("nb201", "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")
    assert d["params"] == 1_531_546  # NAS-Bench-201's largest cell on CIFAR-10
    assert d["flops"] == pytest.approx(220.11e6, rel=1e-3)
