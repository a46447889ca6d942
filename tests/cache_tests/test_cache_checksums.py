"""Shard checksums and damaged manifests: a flipped byte is refused by readers and recomputed by precompute.

Why a flipped *value* byte: it leaves a valid Parquet file with the right columns and arch ids,
so only the sha256 recorded in the manifest tells it apart (checked below: the structural
check alone passes it).
"""

from __future__ import annotations

import json
import logging
import struct

import numpy as np
import pandas as pd
import pytest
from cache_helpers import assert_matches, config

from robot_ray.cache import CacheSettings, Manifest, read_cache_matrix, read_cache_table, shard_problem, write_shard
from robot_ray.errors import RobotRayError
from robot_ray.precompute import prepare, run_precompute, verify_shards

SETTINGS = CacheSettings(space="nb201", dataset="cifar10", metrics=("synflow", "snip"), batch_size=8, seed=0,
                         size={"channels": 4, "cells": 1}, ids="official")


def _synflow(ids) -> np.ndarray:
    return 1000.0 + np.sqrt(np.asarray(ids, dtype=np.float64) + 2.0)  # distinct, incompressible bytes


def _cache(directory, n: int = 8) -> Manifest:
    """A complete two-metric cache of ids 0..n-1 in shards of 4, written as precompute writes it."""
    directory.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(SETTINGS)
    manifest.plan(range(n), 4)
    for shard in manifest.shards:
        frame = pd.DataFrame({"arch": [f"arch-{i}" for i in shard.ids], "synflow": _synflow(shard.ids),
                              "snip": -np.sqrt(shard.ids + 3.0)})
        write_shard(directory, SETTINGS, shard, frame)
        shard.complete = True
    manifest.save(directory)
    return manifest


def _flip_value_byte(path, value: float) -> None:
    """Flip the lowest mantissa bit of ``value`` where it is stored in the file (still valid Parquet)."""
    data = bytearray(path.read_bytes())
    at = bytes(data).find(struct.pack("<d", value))
    assert at >= 0, "value not stored verbatim"
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def test_every_shard_sha256_is_in_the_manifest(tmp_path):
    import hashlib

    _cache(tmp_path / "c")
    raw = json.loads((tmp_path / "c" / "_manifest.json").read_text())
    for entry in raw["shards"]:
        assert entry["sha256"] == hashlib.sha256((tmp_path / "c" / entry["file"]).read_bytes()).hexdigest()
    assert raw["format_version"] == 1  # an optional field, not a new format: older robot-ray still reads it


def test_flipped_byte_is_refused_by_both_readers(tmp_path):
    manifest = _cache(tmp_path / "c")
    shard = manifest.shards[1]
    _flip_value_byte(tmp_path / "c" / shard.file, _synflow([5])[0])
    digest, shard.sha256 = shard.sha256, None
    assert shard_problem(tmp_path / "c", SETTINGS, shard) is None  # structure alone misses it
    shard.sha256 = digest
    assert "checksum mismatch" in shard_problem(tmp_path / "c", SETTINGS, shard)
    for read in (lambda: read_cache_table(tmp_path / "c"), lambda: read_cache_matrix(tmp_path / "c", ["synflow"])):
        with pytest.raises(RobotRayError) as err:
            read()
        message = str(err.value)
        assert "shard file shard-000001.parquet is bad (checksum mismatch" in message
        assert "rerun `robot-ray precompute" in message and message.endswith("to recompute it")


def test_precompute_verification_recomputes_a_flipped_shard(tmp_path, data_dir):
    """What a rerun of precompute does first (no Ray): the mismatching shard goes back to the plan."""
    out = tmp_path / "c"
    plan = prepare(config(out, data_dir, archs="0-7", shard_size=4))
    for shard in plan.manifest.shards:
        frame = pd.DataFrame({"arch": plan.strings(shard, str(data_dir))})
        for m in plan.manifest.settings.metrics:
            frame[m] = _synflow(shard.ids) + len(m)
        write_shard(out, plan.manifest.settings, shard, frame)
        shard.complete = True
    plan.manifest.save(out)
    _flip_value_byte(out / "shard-000000.parquet", _synflow([2])[0] + len(plan.manifest.settings.metrics[0]))
    plan = prepare(config(out, data_dir, archs="0-7", shard_size=4))
    assert [s.index for s in plan.todo()] == [0] and not (out / "shard-000000.parquet").exists()
    assert any("shard-000000.parquet is bad (checksum mismatch" in n for n in plan.notes)
    saved = json.loads((out / "_manifest.json").read_text())["shards"]
    assert not saved[0]["complete"] and "sha256" not in saved[0] and saved[1]["complete"] and saved[1]["sha256"]


def test_precompute_rerun_recomputes_a_flipped_shard(tmp_path, data_dir, reference, local_ray):
    """End to end on Ray: the cache is written from the reference values, a byte flipped, precompute rerun."""
    out = tmp_path / "c"
    plan = prepare(config(out, data_dir, archs="0-7", shard_size=4))
    for shard in plan.manifest.shards:
        write_shard(out, plan.manifest.settings, shard, reference.iloc[shard.ids].reset_index(drop=True))
        shard.complete = True
    plan.manifest.save(out)
    assert_matches(read_cache_table(out), reference, range(8))
    _flip_value_byte(out / "shard-000001.parquet", float(reference["synflow"].iloc[5]))
    with pytest.raises(RobotRayError, match="shard-000001.parquet is bad \\(checksum mismatch.*to recompute it"):
        read_cache_table(out)
    report = run_precompute(config(out, data_dir, archs="0-7", shard_size=4, num_actors=1))
    assert report.recomputed == ["shard-000001.parquet"] and report.computed == 4 and report.skipped == 4
    assert_matches(read_cache_table(out), reference, range(8))


def test_manifest_without_checksums_stays_readable_and_precompute_records_them(tmp_path, data_dir, caplog):
    out = tmp_path / "c"
    plan = prepare(config(out, data_dir, archs="0-3", shard_size=4))
    shard = plan.manifest.shards[0]
    frame = pd.DataFrame({"arch": plan.strings(shard, str(data_dir))})
    for m in plan.manifest.settings.metrics:
        frame[m] = _synflow(shard.ids)
    write_shard(out, plan.manifest.settings, shard, frame)
    shard.complete = True
    plan.manifest.save(out)
    raw = json.loads((out / "_manifest.json").read_text())
    del raw["shards"][0]["sha256"]  # as robot-ray wrote manifests before it recorded digests
    (out / "_manifest.json").write_text(json.dumps(raw))
    with caplog.at_level(logging.WARNING, logger="robot_ray.cache.table"):
        assert len(read_cache_table(out)) == 4
    assert "1 of 1 shards have no recorded sha256" in caplog.text
    notes = verify_shards(out, Manifest.load(out))
    assert notes == ["recorded the sha256 of 1 shard(s) written before robot-ray recorded them"]
    prepare(config(out, data_dir, archs="0-3", shard_size=4))  # a rerun of precompute saves them
    assert json.loads((out / "_manifest.json").read_text())["shards"][0]["sha256"]


@pytest.mark.parametrize("damage, pattern", [
    pytest.param(lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
                 "cannot read the manifest .*damaged", id="truncated"),
    pytest.param(lambda p: p.write_text(""), "cannot read the manifest .*damaged", id="empty"),
    pytest.param(lambda p: p.write_text("[1, 2]"), "is not a metric cache manifest", id="not-a-manifest"),
    pytest.param(lambda p: p.unlink(), "has shard files but no _manifest.json", id="deleted"),
])
def test_damaged_or_deleted_manifest_is_refused_not_read_blind(tmp_path, data_dir, damage, pattern):
    _cache(tmp_path / "c")
    damage(tmp_path / "c" / "_manifest.json")
    for read in (lambda: read_cache_table(tmp_path / "c"), lambda: read_cache_matrix(tmp_path / "c", ["synflow"]),
                 lambda: Manifest.load(tmp_path / "c")):
        with pytest.raises(RobotRayError, match=pattern) as err:
            read()
        assert "precompute into a new --out directory" in str(err.value) and "\n" not in str(err.value)
