"""SWAP's pattern count on the device (one int64 word per neuron) equals the host count (packed bits)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from robot_ray.metrics.passes import _swap, _swap_counted_on_host
from robot_ray.networks import build_network
from robot_ray.networks.init import init_gaussian
from robot_ray.spaces import darts

NB201 = "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|"


@pytest.mark.parametrize("space, samples", [("nb201", 16), ("darts", 16), ("nb201", 5), ("darts", 63)])
def test_device_words_count_what_packed_bits_count(space, samples, torch_one_thread):
    arch = NB201 if space == "nb201" else darts.sample(np.random.default_rng(7), 1)[0]
    size = {"channels": 4, "cells": 1} if space == "nb201" else {"channels": 4, "layers": 3}
    net = build_network(space, arch, 10, seed=0, **size)
    init_gaussian(net, torch.Generator().manual_seed(3))
    x = torch.randn(samples, 3, 32, 32, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        on_device, on_host = _swap(net.train(), x), _swap_counted_on_host(net, x)
    assert on_device == on_host and on_device > min(100, 2 ** samples // 2)  # 5 samples: at most 32 patterns


def test_more_than_63_samples_take_the_host_path(monkeypatch, torch_one_thread):
    net = build_network("nb201", NB201, 10, seed=0, channels=4, cells=1)
    calls = []
    import robot_ray.metrics.passes as passes

    monkeypatch.setattr(passes, "_swap_counted_on_host", lambda n, x: calls.append(len(x)) or 1.0)
    with torch.no_grad():
        passes._swap(net, torch.randn(64, 3, 32, 32))
    assert calls == [64]
