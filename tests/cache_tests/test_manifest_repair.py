"""A lost or damaged manifest: rebuilt from self-verifying shards (`precompute --repair`), or refused clearly.

Never read blind: search and the readers refuse a cache without a readable manifest (naming
--repair); --repair keeps only shards whose rows match the digest in their own metadata, moves the
rest to _quarantine/, and the next precompute plans their archs again. No Ray needed.
"""

from __future__ import annotations

import json
import struct

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from cache_helpers import config
from click.testing import CliRunner

from robot_ray.cache import Manifest, read_cache_table, write_shard
from robot_ray.cache.repair import QUARANTINE, rebuild_manifest
from robot_ray.cli import main
from robot_ray.errors import RobotRayError
from robot_ray.io.lease import Lease
from robot_ray.precompute import prepare, settings_for


def _values(ids: np.ndarray) -> np.ndarray:
    return 1000 + np.sqrt(ids + 2.0)


def _cache(out, data_dir, archs=range(8)) -> pd.DataFrame:
    """A complete cache of the test settings (values made up, not computed), as read back."""
    settings = settings_for(config(out, data_dir))
    manifest = Manifest(settings)
    manifest.plan(archs, 4)
    out.mkdir(parents=True, exist_ok=True)
    for shard in manifest.shards:
        frame = pd.DataFrame({"arch": [f"a{i}" for i in shard.ids]})
        for k, m in enumerate(settings.metrics):
            frame[m] = _values(shard.ids) + k
        write_shard(out, settings, shard, frame)
        shard.complete = True
    manifest.save(out)
    return read_cache_table(out)


def _flip(path) -> None:
    """Flip one bit of a stored value: still valid Parquet, only a digest tells."""
    data = bytearray(path.read_bytes())
    at = bytes(data).find(struct.pack("<d", _values(np.array([5]))[0]))
    assert at > 0
    data[at] ^= 1
    path.write_bytes(bytes(data))


def _repair(out, *extra: str):
    return CliRunner().invoke(main, ["precompute", "--repair", "--out", str(out), *extra])


DAMAGE = {
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
    "empty": lambda p: p.write_text(""),
    "deleted": lambda p: p.unlink(),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_manifest_is_refused_with_the_fix_then_rebuilt(tmp_path, data_dir, damage):
    out = tmp_path / "c"
    before = _cache(out, data_dir)
    DAMAGE[damage](out / "_manifest.json")
    with pytest.raises(RobotRayError, match="robot-ray precompute --repair --out"):
        read_cache_table(out)  # what search reads: refused, not read blind

    result = _repair(out)

    assert result.exit_code == 0, (result.output, result.exception)
    assert "rebuilt _manifest.json from 2 verified shard(s), 8 archs" in result.output
    pd.testing.assert_frame_equal(read_cache_table(out), before)  # verified again against the new manifest
    manifest = Manifest.load(out)
    assert all(s.complete and s.sha256 for s in manifest.shards)
    assert manifest.runs[-1]["command"] == "repair"
    assert bool(list(out.glob("_manifest.json.damaged-*"))) == (damage != "deleted")
    assert not (out / QUARANTINE).exists()


def test_a_flipped_shard_is_quarantined_and_planned_again(tmp_path, data_dir):
    out = tmp_path / "c"
    before = _cache(out, data_dir)
    _flip(out / "shard-000001.parquet")
    DAMAGE["truncated"](out / "_manifest.json")

    result = _repair(out)

    assert result.exit_code == 0, (result.output, result.exception)
    assert "from 1 verified shard(s), 4 archs" in result.output
    assert "shard-000001.parquet: its rows do not match their recorded digest" in result.output
    assert (out / QUARANTINE / "shard-000001.parquet").exists() and not (out / "shard-000001.parquet").exists()
    pd.testing.assert_frame_equal(read_cache_table(out), before.iloc[:4])
    plan = prepare(config(out, data_dir, archs="0-7"))  # the next precompute: the lost archs are planned again
    assert [s.ids.tolist() for s in plan.todo()] == [[4, 5, 6, 7]]


def test_a_flipped_shard_under_an_intact_manifest_is_refused_and_repair_changes_nothing(tmp_path, data_dir):
    out = tmp_path / "c"
    _cache(out, data_dir)
    _flip(out / "shard-000001.parquet")
    with pytest.raises(RobotRayError, match="shard-000001.parquet is bad .checksum mismatch"):
        read_cache_table(out)
    manifest = (out / "_manifest.json").read_text()
    result = _repair(out)
    assert result.exit_code == 0 and "the manifest reads fine; nothing to repair" in result.output
    assert (out / "_manifest.json").read_text() == manifest
    plan = prepare(config(out, data_dir, archs="0-7"))  # as before: precompute recomputes it
    assert [s.index for s in plan.todo()] == [1]


def _strip_digests(out) -> None:
    """Shards as an older robot-ray wrote them: no content digest in their own metadata."""
    for path in out.glob("shard-*.parquet"):
        table = pq.read_table(path)
        meta = json.loads(table.schema.metadata[b"robot_ray.cache"])
        del meta["content_sha256"]
        pq.write_table(table.replace_schema_metadata({b"robot_ray.cache": json.dumps(meta).encode()}), path)


def test_shards_that_cannot_verify_themselves_are_refused_and_nothing_is_moved(tmp_path, data_dir):
    out = tmp_path / "c"
    _cache(out, data_dir)
    _strip_digests(out)
    (out / "_manifest.json").unlink()
    listing = sorted(p.name for p in out.iterdir())

    result = _repair(out)

    assert result.exit_code == 2, (result.output, result.exception)
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("robot-ray: error: cannot rebuild the manifest"), result.output
    assert "none of its 2 shard(s) verifies itself" in lines[0] and "cannot be verified" in lines[0]
    assert sorted(p.name for p in out.iterdir()) == listing


def test_a_shard_of_other_settings_is_quarantined(tmp_path, data_dir):
    out, other = tmp_path / "c", tmp_path / "other"
    _cache(out, data_dir, archs=range(8))
    settings = settings_for(config(other, data_dir, seed=1))
    manifest = Manifest(settings)
    (shard,) = manifest.plan(range(100, 104), 4)
    shard.index = 7
    frame = pd.DataFrame({"arch": ["x"] * 4, **{m: np.zeros(4) for m in settings.metrics}})
    write_shard(out, settings, shard, frame)  # a stray shard of another cache (seed 1)
    (out / "_manifest.json").unlink()
    report = rebuild_manifest(out)
    assert report.kept == ["shard-000000.parquet", "shard-000001.parquet"]
    assert report.quarantined == {"shard-000007.parquet": "computed under other settings than the other shards"}
    assert Manifest.load(out).settings.seed == 0


def test_repair_waits_for_or_refuses_a_live_writer(tmp_path, data_dir):
    out = tmp_path / "c"
    _cache(out, data_dir)
    (out / "_manifest.json").unlink()
    with Lease(out, what="metric cache"):
        result = _repair(out)
    assert result.exit_code == 2 and "metric cache" in result.output and "is being written by" in result.output
    assert not (out / "_manifest.json").exists()


def test_precompute_without_metrics_or_archs_and_without_repair_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["precompute", "--archs", "0-3", "--out", str(tmp_path / "c")])
    assert result.exit_code == 2 and "Missing option '--metrics'" in result.output
    assert not (tmp_path / "c").exists()


def _darts_cache(out) -> None:
    """A DARTS cache: a pool of 10 sampled genotypes and two shards of its rows 0..7."""
    from robot_ray.cache import CacheSettings
    from robot_ray.io.atomic import atomic_write_parquet
    from robot_ray.spaces.darts import codes_to_frame, sample_codes, strings

    codes = sample_codes(np.random.default_rng(0), 10)
    out.mkdir()
    atomic_write_parquet(out / "_pool.parquet", codes_to_frame(codes))
    settings = CacheSettings("darts", "cifar10", ("synflow",), 16, 0, {"channels": 4, "layers": 3}, "pool")
    manifest = Manifest(settings, pool={"file": "_pool.parquet", "rows": 10})
    for shard in manifest.plan(range(8), 4):
        write_shard(out, settings, shard, pd.DataFrame({"arch": strings(codes[shard.ids]),
                                                        "synflow": _values(shard.ids)}))
        shard.complete = True
    manifest.save(out)


def test_a_darts_cache_is_rebuilt_with_its_pool_and_refused_without_it(tmp_path):
    out = tmp_path / "c"
    _darts_cache(out)
    before = read_cache_table(out)
    (out / "_manifest.json").unlink()
    report = rebuild_manifest(out)
    assert report.kept == ["shard-000000.parquet", "shard-000001.parquet"] and not report.quarantined
    assert Manifest.load(out).pool == {"file": "_pool.parquet", "rows": 10}
    pd.testing.assert_frame_equal(read_cache_table(out), before)

    (out / "_manifest.json").unlink()
    (out / "_pool.parquet").unlink()
    with pytest.raises(RobotRayError, match="its _pool.parquet is missing or unreadable"):
        rebuild_manifest(out)
    assert sorted(p.name for p in out.iterdir()) == ["shard-000000.parquet", "shard-000001.parquet"]
