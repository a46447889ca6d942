"""LiveObjective: tiny real training on NB201 and DARTS networks, determinism, pickling."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import torch

from robot_ray.benchmarks.base import Query, TabularBenchmark
from robot_ray.errors import RobotRayError
from robot_ray.train import LiveObjective

NB201_ARCHS = [
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|skip_connect~0|nor_conv_1x1~1|avg_pool_3x3~2|",
    "|skip_connect~0|+|none~0|nor_conv_1x1~1|+|nor_conv_3x3~0|none~1|skip_connect~2|",
]
V2 = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], "
    "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"
)
TINY_NB201 = {"epochs": 1, "batch_size": 32, "train_subset": 128, "size": {"channels": 4, "cells": 1}}


def _check(q: Query) -> None:
    assert isinstance(q, Query)
    assert 0.0 <= q.value <= 100.0 and 0.0 <= q.test_value <= 100.0
    assert math.isfinite(q.value) and math.isfinite(q.test_value) and q.cost > 0


def test_nb201_one_epoch_on_cifar10_is_deterministic_and_picklable(data_dir):
    obj = LiveObjective("nb201", NB201_ARCHS, "cifar10", data_dir=str(data_dir), seed=7, device="cpu", **TINY_NB201)
    first = obj(0)
    _check(first)
    again = pickle.loads(pickle.dumps(obj))(0)  # as a Tune trial / Ray task receives it
    assert (again.value, again.test_value) == (first.value, first.test_value)
    assert obj._data is not None and pickle.loads(pickle.dumps(obj))._data is None  # images never travel


def test_darts_one_epoch_on_digits():
    obj = LiveObjective("darts", [V2], "digits", seed=0, device="cpu", epochs=1, batch_size=32, train_subset=64,
                        cutout=True, size={"channels": 4, "layers": 3})
    _check(obj(0))
    assert obj.settings.weight_decay == 3e-4 and obj.settings.lr == 0.025


def test_benchmark_lookup_copies_arch_strings_and_validates_ids():
    bench = TabularBenchmark(space="nb201", dataset="cifar10", archs=NB201_ARCHS, values=np.zeros(2),
                             test_values=np.zeros(2), costs=np.zeros(2), value_name="v", test_name="t",
                             canonicalize=lambda a: a)  # a lambda: the table itself would not pickle
    obj = pickle.loads(pickle.dumps(LiveObjective("nb201", bench, "digits", **TINY_NB201)))
    assert obj.arch(1) == NB201_ARCHS[1]
    assert obj.settings.size == {"channels": 4, "cells": 1} and obj.settings.weight_decay == 5e-4
    with pytest.raises(RobotRayError, match="outside"):
        obj.arch(2)


def test_bad_settings_fail_with_a_fix():
    with pytest.raises(RobotRayError, match="unknown training settings"):
        LiveObjective("nb201", NB201_ARCHS, "digits", epoch=3)
    with pytest.raises(RobotRayError, match="epochs >= 1"):
        LiveObjective("nb201", NB201_ARCHS, "digits", epochs=0)
    with pytest.raises(RobotRayError, match="trainable spaces"):
        LiveObjective("tnb101", NB201_ARCHS, "digits")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_nb201_trains_on_gpu():
    obj = LiveObjective("nb201", NB201_ARCHS, "digits", seed=0, **TINY_NB201)  # device None -> cuda
    q = obj(0)
    _check(q)
    assert obj.train(NB201_ARCHS[0])["device"] == "cuda"
