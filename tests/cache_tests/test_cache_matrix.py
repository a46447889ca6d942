"""The search-side cache reader (``read_cache_matrix``, shard by shard) equals the table reader exactly.

Synthetic caches (no Ray): values with NaN, +-inf, NASLib's -1e8 sentinel and a non-positive
synflow, shards planned out of id order, batches smaller than a shard. A real DARTS cache is
compared in tests/search_tests/test_darts_live.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from robot_ray.cache import CacheSettings, Manifest, read_cache_matrix, read_cache_table, write_shard
from robot_ray.errors import RobotRayError
from robot_ray.metrics.matrix import read_metric_table

METRICS = ("synflow", "snip", "zen", "flat")
SETTINGS = CacheSettings(space="nb201", dataset="cifar10", metrics=METRICS, batch_size=8, seed=0,
                         size={"channels": 4, "cells": 1}, ids="official")


def _write_cache(directory, plans: list[list[int]], values: dict[str, np.ndarray], *, shard_size: int = 3) -> Manifest:
    """A complete cache whose shards are planned in the order of ``plans`` (``values`` indexed by id)."""
    directory.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(SETTINGS)
    for ids in plans:
        manifest.plan(ids, shard_size)
    for shard in manifest.shards:
        frame = pd.DataFrame({"arch": [f"arch-{i}" for i in shard.ids]})
        for m in METRICS:
            frame[m] = values[m][shard.ids]
        write_shard(directory, SETTINGS, shard, frame)
        shard.complete = True
    manifest.save(directory)
    return manifest


def _values(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    synflow = 10.0 ** rng.uniform(-5, 60, n)
    synflow[[1, 7]] = [0.0, -3.0]  # log of a non-positive value -> worst
    snip = rng.normal(size=n)
    snip[[2, 11]] = [np.nan, np.inf]
    zen = rng.uniform(50, 120, n)
    zen[[0, 5, 16]] = [-1e8, -np.inf, np.nan]
    flat = np.where(np.arange(n) % 2 == 0, 1.5, np.nan)  # constant over its finite values
    return {"synflow": synflow, "snip": snip, "zen": zen, "flat": flat}


def _assert_same(a, b) -> None:
    assert a.names == b.names and a.notes == b.notes
    assert np.array_equal(a.arch_ids, b.arch_ids) and a.arch_ids.dtype == np.int64
    assert a.values.dtype == np.float32 and a.values.flags.f_contiguous
    assert np.array_equal(a.values, b.values)  # bit for bit, not allclose


@pytest.mark.parametrize("batch_rows", [1, 2, 1 << 16])
def test_shard_by_shard_equals_table_reader(tmp_path, batch_rows):
    n = 20
    values = _values(n)
    # planned in two runs, the second with lower ids: shards are not in id order on disk
    _write_cache(tmp_path / "c", [list(range(10, 20)), list(range(0, 10))], values)
    table = read_cache_table(tmp_path / "c")
    for metrics in (["synflow", "snip", "zen"], ["zen", "synflow"], ["snip"]):
        expect = read_metric_table(table, metrics)
        got = read_cache_matrix(tmp_path / "c", metrics, batch_rows=batch_rows)
        _assert_same(got, expect)
    notes = " ".join(read_cache_matrix(tmp_path / "c", ["synflow", "snip", "zen"], batch_rows=batch_rows).notes)
    assert "synflow (log; 2 non-positive)" in notes and "2 of 20 values not finite" in notes
    assert "zen: 3 of 20 values not finite (1 NASLib -1e8 sentinels)" in notes


def test_sorted_shards_and_errors_match_the_table_reader(tmp_path):
    values = _values(20, seed=1)
    _write_cache(tmp_path / "c", [list(range(20))], values, shard_size=8)
    _assert_same(read_cache_matrix(tmp_path / "c", ["synflow", "zen"], batch_rows=3),
                 read_metric_table(read_cache_table(tmp_path / "c"), ["synflow", "zen"]))
    for metrics, pattern in ((["flat"], "metric 'flat' is constant"),
                             (["grasp"], "unknown metric.*grasp.*this table has: synflow, snip, zen, flat")):
        with pytest.raises(RobotRayError, match=pattern):
            read_cache_matrix(tmp_path / "c", metrics)

    # a damaged shard: both readers refuse it with the same message (its sha256 first)
    path = tmp_path / "c" / "shard-000001.parquet"
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(RobotRayError) as table_err:
        read_cache_table(tmp_path / "c")
    with pytest.raises(RobotRayError) as matrix_err:
        read_cache_matrix(tmp_path / "c", ["snip"])
    assert "shard file shard-000001.parquet is bad (checksum mismatch" in str(matrix_err.value)
    assert str(matrix_err.value) == str(table_err.value)
    # the same damage under a manifest without digests (written before they were recorded): unreadable
    manifest = Manifest.load(tmp_path / "c")
    for shard in manifest.shards:
        shard.sha256 = None
    manifest.save(tmp_path / "c")
    with pytest.raises(RobotRayError) as table_err:
        read_cache_table(tmp_path / "c")
    with pytest.raises(RobotRayError) as matrix_err:
        read_cache_matrix(tmp_path / "c", ["snip"])
    assert "shard file shard-000001.parquet is bad (unreadable" in str(matrix_err.value)
    assert str(matrix_err.value).split(" (unreadable")[0] == str(table_err.value).split(" (unreadable")[0]

    # an incomplete cache
    manifest = Manifest.load(tmp_path / "c")
    manifest.shards[0].complete = False
    manifest.save(tmp_path / "c")
    with pytest.raises(RobotRayError, match="incomplete: 1 of 3 shards.*rerun"):
        read_cache_matrix(tmp_path / "c", ["snip"])
