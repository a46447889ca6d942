"""DartsPool: a sampled DARTS pool as a benchmark answered only by a live objective."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from robot_ray.benchmarks import pool as pool_mod
from robot_ray.benchmarks.pool import DartsPool
from robot_ray.errors import RobotRayError
from robot_ray.spaces import darts


def test_names_genotypes_by_pool_row_and_refuses_queries():
    codes = darts.sample_codes(np.random.default_rng(0), 50)
    pool = DartsPool(codes, "cifar10")
    assert pool.num_archs == 50 and not pool.tabular and pool.space == "darts"
    strings = darts.strings(codes)
    for i in (0, 17, 49):
        assert pool.arch(i) == strings[i] == darts.canonical(strings[i])
        assert pool.arch_id(strings[i]) == i
    with pytest.raises(RobotRayError, match="not in this pool"):
        pool.arch_id(darts.strings(darts.sample_codes(np.random.default_rng(1), 1))[0])
    with pytest.raises(RobotRayError, match="outside the darts pool"):
        pool.arch(50)
    with pytest.raises(RobotRayError, match="live"):
        pool.query(0)
    back = pickle.loads(pickle.dumps(pool))  # no Ray: the codes travel inline
    assert back.num_archs == 50 and back.arch(17) == strings[17]


def test_large_pool_is_shipped_once_through_the_object_store(ray_session, monkeypatch):
    monkeypatch.setattr(pool_mod, "SHARE_BYTES", 1000)
    codes = darts.sample_codes(np.random.default_rng(0), 100)  # 3,200 bytes > 1000
    pool = DartsPool(codes, "cifar10")
    ray = ray_session

    @ray.remote(num_cpus=0)
    def name(p, i):
        return p._codes is None, p.arch(i), p.num_archs

    lazy, arch, rows = ray.get(name.remote(pool, 42))
    assert pool._ref is not None and lazy and arch == pool.arch(42) and rows == 100
