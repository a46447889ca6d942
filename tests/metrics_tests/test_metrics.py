"""Metric engine: fused == one-at-a-time, NaN for degenerate cells, registry errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from robot_ray.errors import RobotRayError
from robot_ray.images import load_batch
from robot_ray.metrics.catalog import default_registry
from robot_ray.metrics.compute import compute_archs
from robot_ray.metrics.fused import compute_metrics
from robot_ray.metrics.registry import MetricRegistry
from robot_ray.networks import build_network

ARCHS = [
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|skip_connect~0|nor_conv_1x1~1|avg_pool_3x3~2|",
    "|skip_connect~0|+|none~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|",
    "|nor_conv_1x1~0|+|avg_pool_3x3~0|none~1|+|none~0|skip_connect~1|none~2|",
]
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
NAMES = default_registry().names


@pytest.fixture(scope="module")
def batch():
    torch.set_num_threads(1)
    return load_batch("digits", None, 12, seed=0)


def test_eleven_metrics_registered() -> None:
    assert set(NAMES) == {"grad_norm", "snip", "grasp", "fisher", "synflow", "jacob_cov", "nwot", "zen",
                          "swap", "swap_reg", "params", "flops"}


@pytest.mark.parametrize("arch", ARCHS)
def test_fused_equals_one_at_a_time(batch, arch: str) -> None:
    net = build_network("nb201", arch, 10, channels=4, cells=1, seed=1)
    before = [p.detach().clone() for p in net.parameters()]
    fused = compute_metrics(net, batch, NAMES)
    for name in NAMES:
        alone = compute_metrics(net, batch, [name])[name]
        assert math.isfinite(alone), name
        assert fused[name] == pytest.approx(alone, rel=1e-4), name
    # the network handed in is left untouched
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))
    assert all(p.grad is None for p in net.parameters())


def test_metric_callable_alone(batch) -> None:
    reg = default_registry()
    net = build_network("nb201", ARCHS[0], 10, channels=4, cells=1)
    assert reg.get("snip")(net, batch) == pytest.approx(compute_metrics(net, batch, ["snip"])["snip"], rel=1e-6)


def test_all_none_cell_gives_nan_not_crash(batch) -> None:
    net = build_network("nb201", ALL_NONE, 10, channels=4, cells=1)
    out = compute_metrics(net, batch, NAMES)
    for name in ("grad_norm", "snip", "grasp", "fisher", "synflow", "jacob_cov", "nwot", "zen"):
        assert math.isnan(out[name]), name
    assert out["params"] > 0 and out["flops"] > 0
    assert out["swap"] == 1.0  # every neuron is off for every sample: one pattern


@pytest.mark.parametrize("n", [12, 64, 100])  # part of a word, one word, two words per neuron
def test_swap_counts_distinct_patterns_like_a_plain_set(n: int) -> None:
    """SWAP's bit packing and hashing give the count a set of per-neuron on/off tuples gives."""
    from torch import nn

    from robot_ray.metrics.passes import _swap
    from robot_ray.networks.init import init_gaussian

    x, _ = load_batch("digits", None, n, seed=3)
    net = build_network("nb201", ARCHS[0], 10, channels=4, cells=1, seed=1).train()
    init_gaussian(net, torch.Generator().manual_seed(0))
    patterns: set[tuple[bool, ...]] = set()

    def on_relu(module, inp, out):
        if inp[0].dim() == 4:
            patterns.update(map(tuple, (out > 0).flatten(1).T.tolist()))

    handles = [m.register_forward_hook(on_relu) for m in net.modules() if isinstance(m, nn.ReLU)]
    with torch.no_grad():
        net(x)
    for h in handles:
        h.remove()
    with torch.no_grad():
        got = _swap(net, x)
    assert got == len(patterns) > 1


def test_unknown_metric_names_known_ones(batch) -> None:
    with pytest.raises(RobotRayError, match="known metrics: grad_norm"):
        compute_metrics(torch.nn.Linear(1, 1), batch, ["snip", "bogus"])


def test_duplicate_registration_raises() -> None:
    reg = default_registry()
    with pytest.raises(RobotRayError, match="already registered"):
        reg.register(reg.get("snip"))
    assert len(MetricRegistry([reg.get("snip")])) == 1


def test_compute_archs_frame(caplog) -> None:
    frame = compute_archs("nb201", ARCHS[:2] + [ALL_NONE], dataset="digits", metrics=["snip", "params"],
                          batch_size=8, seed=0, data_dir=None, channels=4, cells=1)
    assert list(frame.columns) == ["arch", "snip", "params"]
    assert frame["snip"].dtype == np.float64
    assert np.isnan(frame["snip"].iloc[2]) and frame["snip"].iloc[:2].notna().all()
    assert "NaN for 1 of 3" in caplog.text
    with pytest.raises(RobotRayError, match="no network builder"):
        compute_archs("darts_x", ARCHS, dataset="digits", metrics=["snip"], batch_size=8, seed=0, data_dir=None)


def test_swap_counts_over_the_first_samples_of_the_batch() -> None:
    """SWAP sees SWAP_SAMPLES images (the reference's input size), whatever the batch size."""
    from robot_ray.metrics.passes import SWAP_SAMPLES

    x, y = load_batch("digits", None, 4 * SWAP_SAMPLES, seed=2)
    net = build_network("nb201", ARCHS[0], 10, channels=4, cells=1, seed=1)
    whole = compute_metrics(net, (x, y), ["swap", "zen"])
    first = compute_metrics(net, (x[:SWAP_SAMPLES], y[:SWAP_SAMPLES]), ["swap"])
    rest = compute_metrics(net, (x[SWAP_SAMPLES:], y[SWAP_SAMPLES:]), ["swap"])
    assert whole["swap"] == first["swap"] != rest["swap"]
    assert 1 < whole["swap"] and math.isfinite(whole["zen"])


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("space", ["nb201", "darts"])
def test_every_metric_on_cuda_is_finite_and_matches_the_cpu(batch, space) -> None:
    """On an H200, zen/swap/swap_reg came back NaN: the Gaussian init drew from a CPU generator
    into CUDA weights. A seed must give the same metrics on either device (up to float error)."""
    from robot_ray.metrics.compute import network_size
    from robot_ray.spaces import darts

    arch = ARCHS[0] if space == "nb201" else darts.sample(np.random.default_rng(0), 1)[0]
    size = network_size(space, channels=8, cells=1 if space == "nb201" else 5)
    on_cpu = compute_metrics(build_network(space, arch, 10, seed=1, **size), batch, NAMES)
    cuda_batch = tuple(t.to("cuda") for t in batch)
    on_gpu = compute_metrics(build_network(space, arch, 10, seed=1, device="cuda", **size), cuda_batch, NAMES,
                             device="cuda")
    for name in NAMES:
        assert math.isfinite(on_gpu[name]), name
        assert on_gpu[name] == pytest.approx(on_cpu[name], rel=5e-2, abs=1e-2), name


def test_the_network_handed_in_keeps_its_mode_and_batchnorm_statistics(batch) -> None:
    """The data pass runs on the network itself (no deep copy): a train-mode forward updates
    BatchNorm's running statistics, which must be given back as they were, with the mode."""
    net = build_network("nb201", ARCHS[0], 10, channels=4, cells=1, seed=1).eval()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    kinds = [type(m) for m in net.modules()]
    compute_metrics(net, batch, NAMES)
    assert not any(m.training for m in net.modules())
    assert [type(m) for m in net.modules()] == kinds  # synflow's bypassed BatchNorms are put back
    assert net.state_dict().keys() == before.keys()
    assert all(torch.equal(before[k], v) and before[k].dtype == v.dtype for k, v in net.state_dict().items())
    assert all(p.grad is None for p in net.parameters())
