"""The actor pool on a local 2-CPU Ray: equality with compute_archs, resume, crashes, DARTS pools."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cache_helpers import assert_matches, config

from robot_ray.cache import read_cache_table
from robot_ray.errors import RobotRayError
from robot_ray.precompute import ShardWorker, run_precompute


def test_cache_equals_compute_archs_then_repairs_and_extends(tmp_path, data_dir, reference, local_ray):
    out = tmp_path / "c"
    report = run_precompute(config(out, data_dir, archs="0-11"))
    assert (report.computed, report.shards_computed, report.skipped, report.failures) == (12, 3, 0, 0)
    table = read_cache_table(out)
    assert_matches(table, reference, range(12))
    pd.testing.assert_frame_equal(pd.read_parquet(out).sort_values("arch_id", ignore_index=True)[table.columns],
                                  table, check_dtype=False)
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["complete"] and all(s["node_id"] for s in manifest["shards"])

    # rerunning the same command computes nothing
    assert run_precompute(config(out, data_dir, archs="0-11")).computed == 0

    # a truncated shard is reported by the reader, then detected and recomputed by a rerun
    shard = out / "shard-000001.parquet"
    shard.write_bytes(shard.read_bytes()[:100])
    with pytest.raises(RobotRayError, match="shard-000001.parquet.*rerun `"):
        read_cache_table(out)
    report = run_precompute(config(out, data_dir, archs="0-11"))
    assert report.recomputed == ["shard-000001.parquet"] and report.computed == 4
    assert_matches(read_cache_table(out), reference, range(12))

    # new archs under the same settings: only they are computed, into a new shard
    report = run_precompute(config(out, data_dir, archs="10-15"))
    assert (report.computed, report.skipped) == (4, 12)
    assert_matches(read_cache_table(out), reference, range(16))


def test_crashed_actor_shard_is_resubmitted(tmp_path, data_dir, reference, local_ray):
    marker = str(tmp_path / "crashed")

    class CrashOnce(ShardWorker):
        """Dies (os._exit, as an OOM kill would) on shard 1 the first time it sees it."""

        def compute(self, index, archs):
            if index == 1 and not os.path.exists(marker):
                Path(marker).touch()
                os._exit(1)
            return super().compute(index, archs)

    out = tmp_path / "c"
    report = run_precompute(config(out, data_dir, archs="0-11"), worker_cls=CrashOnce)
    assert os.path.exists(marker) and report.failures == 1 and report.computed == 12
    assert_matches(read_cache_table(out), reference, range(12))


def test_darts_pool_ids_are_stable(tmp_path, local_ray):
    from robot_ray.metrics.compute import compute_archs
    from robot_ray.spaces import darts

    out = tmp_path / "d"
    cfg = dict(space="darts", dataset="digits", channels=4, cells=3, batch_size=8, shard_size=2,
               metrics=("params", "nwot"), num_actors=1)
    run_precompute(config(out, None, archs="sample:2:7", **cfg))
    first = read_cache_table(out)
    report = run_precompute(config(out, None, archs="sample:3:7", **cfg))  # same seed: a superset
    assert (report.computed, report.skipped) == (1, 2)
    table = read_cache_table(out)
    pd.testing.assert_frame_equal(table.iloc[:2], first)
    assert table["arch_id"].tolist() == [0, 1, 2]
    assert table["arch"].tolist() == darts.sample(np.random.default_rng(7), 3)
    pool = pd.read_parquet(out / "_pool.parquet")
    assert pool["arch_id"].tolist() == [0, 1, 2] and set(pd.read_parquet(out).columns) == set(table.columns)
    ref = compute_archs("darts", table["arch"].tolist(), dataset="digits", metrics=["params", "nwot"], batch_size=8,
                        seed=0, data_dir=None, size={"channels": 4, "layers": 3})
    np.testing.assert_allclose(table[["params", "nwot"]].to_numpy(), ref[["params", "nwot"]].to_numpy(), rtol=1e-6)


def test_revised_metric_cache_end_to_end(tmp_path, data_dir, local_ray, monkeypatch, caplog):
    """A cache of a revised metric (swap, revision 2): written as format 2 with its revisions, read,
    resumed; a newer definition warns on read, and a worker whose code differs refuses to compute."""
    from robot_ray.metrics import catalog
    from robot_ray.metrics.compute import compute_archs
    from robot_ray.benchmarks.nb201 import official_arch_strings

    out = tmp_path / "c"
    cfg = config(out, data_dir, archs="0-5", metrics=("params", "swap", "swap_reg"))
    assert run_precompute(cfg).computed == 6
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["format_version"] == 2 and manifest["settings"]["revisions"] == {"swap": 2, "swap_reg": 2}
    table = read_cache_table(out)
    archs = list(official_arch_strings(str(data_dir))[:6])
    direct = compute_archs("nb201", archs, dataset="cifar10", metrics=["params", "swap", "swap_reg"], batch_size=16,
                           seed=0, data_dir=data_dir, channels=4, cells=1)
    np.testing.assert_array_equal(table[["params", "swap", "swap_reg"]].to_numpy(),
                                  direct[["params", "swap", "swap_reg"]].to_numpy())
    assert run_precompute(cfg).computed == 0

    monkeypatch.setattr(catalog, "SWAP_REVISION", 3)  # as if this code had a newer swap
    with caplog.at_level("WARNING", logger="robot_ray.cache.table"):
        read_cache_table(out)
    assert "swap (cache revision 2, this code 3)" in caplog.text
    with pytest.raises(RobotRayError, match="swap definition: cache holds revision 2, this code computes revision 3"):
        run_precompute(cfg)
    with pytest.raises(RobotRayError, match="definitions on this worker differ"):
        ShardWorker(manifest["settings"], str(data_dir), 1)
