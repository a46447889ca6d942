"""Cache format without Ray: SPEC parsing, id runs, planning, refusals, shard checks, CLI errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from cache_helpers import METRICS, cli_args, config
from click.testing import CliRunner

from robot_ray.cache import parse_arch_spec, read_cache_table, shard_problem, write_shard
from robot_ray.cache.manifest import decode_ids, encode_ids
from robot_ray.errors import RobotRayError
from robot_ray.precompute import prepare, verify_shards


@pytest.mark.parametrize("text, kind, ids, n, seed", [
    ("1,5,9", "ids", (1, 5, 9), 0, 0),
    ("0-3,7", "ids", (0, 1, 2, 3, 7), 0, 0),
    ("all", "all", (), 0, 0),
    ("sample:10", "sample", (), 10, 0),
    ("sample:10:3", "sample", (), 10, 3),
])
def test_parse_arch_spec(text, kind, ids, n, seed):
    spec = parse_arch_spec(text)
    assert (spec.kind, spec.ids, spec.n, spec.seed) == (kind, ids, n, seed)


@pytest.mark.parametrize("text", ["", "1,x", "5-2", "sample", "sample:", "sample:0", "sample:3:x", "-1"])
def test_malformed_spec(text):
    with pytest.raises(RobotRayError):
        parse_arch_spec(text)


def test_id_runs_round_trip():
    for ids in ([], [3], [0, 1, 2, 3], [1, 2, 5, 7, 8, 9], list(range(0, 15625))):
        arr = np.array(ids, dtype=np.int64)
        assert np.array_equal(decode_ids(encode_ids(arr)), arr)
    assert encode_ids(np.arange(100)) == [[0, 100]]


def test_plan_refusals_and_extension(tmp_path, data_dir):
    out = tmp_path / "c"
    plan = prepare(config(out, data_dir, archs="0-9", shard_size=4))
    assert [len(s) for s in plan.todo()] == [4, 4, 2]
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["settings"]["size"] == {"channels": 4, "cells": 1} and manifest["settings"]["ids"] == "official"
    assert manifest["runs"][-1]["code"]["robot_ray"]

    # same command again: same plan, nothing new
    assert [s.index for s in prepare(config(out, data_dir, archs="0-9", shard_size=4)).todo()] == [0, 1, 2]
    # new archs, same settings: new shards for the new ids only
    plan = prepare(config(out, data_dir, archs="8-13", shard_size=4))
    assert [s.ids.tolist() for s in plan.manifest.shards[3:]] == [[10, 11, 12, 13]]
    # other settings or other metrics: refused, cache untouched
    before = (out / "_manifest.json").read_text()
    for kw, word in ((dict(batch_size=8), "batch_size"), (dict(seed=1), "seed"), (dict(dataset="cifar100"), "dataset"),
                     (dict(metrics=(*METRICS, "snip")), "metrics"), (dict(channels=8), "network size")):
        with pytest.raises(RobotRayError, match=word):
            prepare(config(out, data_dir, **kw))
    assert (out / "_manifest.json").read_text() == before
    # not computed yet: read_cache_table says so and how to fix it
    with pytest.raises(RobotRayError, match="incomplete.*rerun"):
        read_cache_table(out)


def test_refuses_a_cache_of_an_older_metric_definition(tmp_path, data_dir):
    """A cache whose swap predates revision 2 (no revisions recorded) is not resumed with swap 2."""
    out = tmp_path / "c"
    prepare(config(out, data_dir, metrics=("params", "swap")))
    path = out / "_manifest.json"
    manifest = json.loads(path.read_text())
    assert manifest["settings"]["revisions"] == {"swap": 2} and manifest["format_version"] == 2
    del manifest["settings"]["revisions"]  # as written before revisions existed
    path.write_text(json.dumps(manifest))
    with pytest.raises(RobotRayError, match="swap definition: cache holds revision 1, this code computes revision 2"):
        prepare(config(out, data_dir, metrics=("params", "swap")))
    # a format this robot-ray does not know (a newer one wrote it) is refused by name
    manifest["format_version"] = 3
    path.write_text(json.dumps(manifest))
    with pytest.raises(RobotRayError, match="format_version 3 is not one this robot-ray reads"):
        prepare(config(out, data_dir, metrics=("params", "swap")))
    # a cache of unrevised metrics records no revisions and keeps format 1, which older robot-ray reads
    prepare(config(tmp_path / "d", data_dir))
    plain = json.loads((tmp_path / "d" / "_manifest.json").read_text())
    assert "revisions" not in plain["settings"] and plain["format_version"] == 1


def test_refuses_foreign_directory(tmp_path, data_dir):
    (tmp_path / "x.txt").write_text("mine")
    with pytest.raises(RobotRayError, match="not a metric cache"):
        prepare(config(tmp_path, data_dir))
    with pytest.raises(RobotRayError, match="not a robot-ray metric cache"):
        read_cache_table(tmp_path)


def _fake_frame(archs: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({"arch": archs})
    for j, m in enumerate(METRICS):
        frame[m] = np.arange(len(archs), dtype=np.float64) + j
    return frame


def test_shard_checks_and_verify(tmp_path, data_dir):
    out = tmp_path / "c"
    plan = prepare(config(out, data_dir, archs="0-7", shard_size=4))
    s0, s1 = plan.manifest.shards
    for shard in (s0, s1):
        write_shard(out, plan.manifest.settings, shard, _fake_frame(plan.strings(shard, str(data_dir))))
    assert shard_problem(out, plan.manifest.settings, s0) is None
    # pandas reads the directory as one table (manifest, lock and hidden files ignored)
    (out / ".shard-000009.parquet.tmp-1").write_bytes(b"junk")
    assert pd.read_parquet(out)["arch_id"].tolist() == list(range(8))
    # truncated file: its sha256 differs from the one recorded when it was written
    data = (out / s1.file).read_bytes()
    (out / s1.file).write_bytes(data[: len(data) // 2])
    assert "checksum mismatch" in shard_problem(out, plan.manifest.settings, s1)
    # without a recorded sha256 (a manifest written before digests existed): unreadable
    digest, s1.sha256 = s1.sha256, None
    assert "unreadable" in shard_problem(out, plan.manifest.settings, s1)
    s1.sha256 = digest
    # file of another shard under this name: ids differ
    (out / s1.file).write_bytes((out / s0.file).read_bytes())
    assert shard_problem(out, plan.manifest.settings, s1) is not None
    # verify: s0 (written, manifest not yet updated) becomes complete, s1 is removed, temp files go
    notes = verify_shards(out, plan.manifest)
    assert s0.complete and not s1.complete and not (out / s1.file).exists()
    assert any(s1.file in n for n in notes)
    assert not list(out.glob(".shard-*"))


def test_cli_bad_input_exits_2(tmp_path, data_dir, monkeypatch):
    from robot_ray.cli import main

    monkeypatch.delenv("ROBOT_RAY_DATA", raising=False)
    runner = CliRunner()
    cases = [
        (cli_args(tmp_path / "a", data_dir, "0-3")[:-2] + ["--metrics", "nope", "--out", str(tmp_path / "a")], "unknown metric"),
        (cli_args(tmp_path / "b", data_dir, "1,,x"), "malformed"),
        (cli_args(tmp_path / "c", data_dir, "sample:abc"), "malformed"),
        ([a for a in cli_args(tmp_path / "d", data_dir) if a not in ("--data-dir", str(data_dir))], "data directory"),
        (cli_args(tmp_path / "e", tmp_path / "missing"), "does not exist"),
    ]
    for args, word in cases:
        res = runner.invoke(main, args)
        assert res.exit_code == 2, (args, res.output)
        err = res.stderr if hasattr(res, "stderr") else res.output
        assert word in err and err.count("\n") == 1, err
