"""Bad input, one row per case: exit code 2, one line naming the problem, no traceback, nothing written.

Every row runs the real command line in this process (click's CliRunner on ``robot_ray.cli.main``)
with ``ray.init`` replaced by a tripwire: all of these must fail before Ray starts, and before
``--out`` (or anything else under the test's directory) is created or changed. The two rows that
need a running Ray (a resource request the cluster cannot meet) are at the end.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from robot_ray.cli import main

N = 15625  # NB201 architectures


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, data_dir) -> Path:
    """Broken inputs, built once: metric tables, directories that are not caches, damaged caches."""
    from robot_ray.cache import CacheSettings, Manifest, write_shard

    root = tmp_path_factory.mktemp("bad_inputs")
    ids = np.arange(N)
    pd.DataFrame({"arch_id": ids, "synflow": np.nan, "snip": ids * 1.0}).to_parquet(root / "nan_only.parquet")
    pd.DataFrame({"arch_id": ids, "synflow": ["high"] * N, "snip": ids * 1.0}).to_parquet(root / "text.parquet")
    pd.DataFrame({"arch_id": ids, "synflow": ids % 7 - 3.0, "snip": 2.0}).to_parquet(root / "constant.parquet")
    (root / "garbage.parquet").write_bytes(b"PAR1 but not really")
    (root / "not_a_cache").mkdir()
    (root / "not_a_cache" / "notes.txt").write_text("mine")
    (root / "empty_dir").mkdir()
    (root / "afile").write_text("a file, not a directory")
    config = {"robot_ray_version": "0.1.0", "space": "nb201", "dataset": "cifar10", "metrics": ["synflow", "snip"],
              "budget": 5, "seeds": [0], "method": "robot", "data_dir": None, "cache": None, "out": "x",
              "objective": "robot", "bo_rounds": None, "init_trials": 1, "acquisition": "ucb", "repeats": "novel",
              "initial": "corners", "engine": "gp", "use_ray": True, "per_seed_concurrency": None,
              "table_trials": "seed", "trial_resources": {"cpu": 0.25}, "resume": False, "progress": False,
              "method_options": {}, "train": {}, "cifar_root": None, "train_seed": 0}
    for name, changes in (("earlier", {}), ("config_budget_text", {"budget": "abc"}), ("foreign_trials", {"seeds": [3]})):
        (root / name).mkdir()
        (root / name / "search_config.json").write_text(json.dumps({**config, **changes}))
    (root / "earlier" / "summary.json").write_text("{}")
    (root / "foreign_trials" / "tune" / "robot" / "seed_trial_0").mkdir(parents=True)
    (root / "foreign_trials" / "tune" / "robot" / "seed_trial_0" / "params.json").write_text('{"seed": 0}')
    for name, summary in (("summary_list", [1, 2]), ("summary_budget_text", {"method": "rs", "budget": "abc"}),
                          ("summary_runs_int", {"method": "rs", "budget": 5, "runs": 5}),
                          ("trajectory_no_seed", {"method": "rs", "budget": 5, "runs": []})):
        (root / name / "rs").mkdir(parents=True)
        (root / name / "rs" / "summary.json").write_text(json.dumps(summary))
    pd.DataFrame({"query": [1], "best_test_value": [90.0]}).to_parquet(root / "trajectory_no_seed" / "rs" / "trajectory.parquet")
    (root / "config_list").mkdir()
    (root / "config_list" / "search_config.json").write_text("[1, 2]")

    settings = CacheSettings(space="nb201", dataset="cifar10", metrics=("synflow", "snip"), batch_size=8, seed=0,
                             size={"channels": 4, "cells": 1}, ids="official")
    for name in ("flipped", "truncated_manifest", "deleted_manifest"):
        cache = root / name
        cache.mkdir()
        manifest = Manifest(settings)
        manifest.plan(range(8), 4)
        for shard in manifest.shards:
            frame = pd.DataFrame({"arch": [f"a{i}" for i in shard.ids], "synflow": 1000 + np.sqrt(shard.ids + 2.0),
                                  "snip": -np.sqrt(shard.ids + 3.0)})
            write_shard(cache, settings, shard, frame)
            shard.complete = True
        manifest.save(cache)
    data = bytearray((root / "flipped" / "shard-000001.parquet").read_bytes())
    data[bytes(data).find(struct.pack("<d", 1000 + np.sqrt(7.0)))] ^= 1  # still valid Parquet: only sha256 tells
    (root / "flipped" / "shard-000001.parquet").write_bytes(bytes(data))
    text = (root / "truncated_manifest" / "_manifest.json").read_text()
    (root / "truncated_manifest" / "_manifest.json").write_text(text[: len(text) // 2])
    (root / "deleted_manifest" / "_manifest.json").unlink()
    return root


def _search(*args: str) -> list[str]:
    return ["search", "--quiet", "--budget", "5", "--seeds", "0", *args]


def _precompute(*args: str) -> list[str]:
    base = {"--metrics": "synflow", "--archs": "0-3", "--channels": "4", "--cells": "1", "--batch-size": "8"}
    given = dict(zip(args[::2], args[1::2]))
    return ["precompute", "--quiet", *[x for k, v in {**base, **given}.items() for x in (k, v)], "--out", "{out}"]


DARTS_V2 = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], "
    "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"
)


def _describe(*args: str, arch: str = DARTS_V2) -> list[str]:
    return ["describe", "--space", "darts", "--arch", arch, *args]


SWAP_LIVE = ("--space", "darts", "--objective", "live", "--method", "swapnas", "--fitness", "live")


# (id, argv with {in} = the inputs folder and {out} = a fresh output path, words the one line must hold)
ROWS = [
    # malformed numbers
    ("trial-cpus-nan", _search("--trial-cpus", "nan"), "--trial-cpus must be a finite number > 0, got nan"),
    ("trial-cpus-inf", _search("--trial-cpus", "inf"), "--trial-cpus must be a finite number > 0, got inf"),
    ("trial-cpus-negative", _search("--trial-cpus", "-1"), "--trial-cpus must be a finite number > 0"),
    ("trial-cpus-zero", _search("--trial-cpus", "0"), "--trial-cpus must be a finite number > 0"),
    ("trial-cpus-text", _search("--trial-cpus", "abc"), "'--trial-cpus': 'abc' is not a valid float"),
    ("trial-cpus-empty", _search("--trial-cpus", ""), "'--trial-cpus': '' is not a valid float"),
    ("trial-gpus-nan", _search("--trial-gpus", "nan"), "--trial-gpus must be a finite number >= 0, got nan"),
    ("trial-gpus-negative", _search("--trial-gpus", "-1"), "--trial-gpus must be a finite number >= 0"),
    ("num-cpus-zero", _search("--num-cpus", "0"), "--num-cpus must be a finite number >= 1, got 0"),
    ("num-cpus-text", _search("--num-cpus", "two"), "'--num-cpus': 'two' is not a valid integer"),
    ("budget-zero", _search("--budget", "0"), "--budget must be a finite number >= 1, got 0"),
    ("budget-negative", _search("--budget", "-1"), "--budget must be a finite number >= 1"),
    ("budget-empty", _search("--budget", ""), "'' is not a valid integer"),
    ("budget-above-pool", _search("--budget", "20000"), "--budget 20000: budget must be in 1..15625"),
    ("bo-rounds-zero", _search("--bo-rounds", "0"), "--bo-rounds must be a finite number >= 1"),
    # seeds
    ("seeds-too-many", _search("--seeds", "0-100000000"), "names 100000001 seeds; at most 10000"),
    ("seeds-long-list", _search("--seeds", ",".join(map(str, range(20001)))), "...,19999,20000' names 20001 seeds"),
    ("seeds-negative", _search("--seeds", "-1"), "seeds must be in 0..2147483647, got -1"),
    ("seeds-above-int32", _search("--seeds", "0,2147483648"), "seeds must be in 0..2147483647, got 2147483648"),
    ("seeds-text", _search("--seeds", "abc"), "malformed seeds 'abc'"),
    ("seeds-reversed", _search("--seeds", "9-1"), "malformed seeds '9-1'"),
    ("seeds-empty", _search("--seeds", ""), "no seeds in ''"),
    # unknown names
    ("space", _search("--space", "nb101"), "unknown search space 'nb101'"),
    ("dataset", _search("--dataset", "svhn"), "unknown NB201 dataset 'svhn'"),
    ("tnb101-task", _search("--space", "tnb101_micro", "--dataset", "nope", "--metrics", "zen"),
     "unknown TransNAS-Bench-101 task 'nope'"),
    ("metric", _search("--metrics", "synflow,bogus"), "unknown metric(s) bogus"),
    ("metrics-empty", _search("--metrics", ","), "no metric names in --metrics"),
    ("tnb101-default-metrics", _search("--space", "tnb101_micro", "--dataset", "class_scene"),
     "unknown metric(s) snip, nwot"),
    ("method", _search("--method", "bayes"), "'--method': 'bayes' is not one of"),
    ("objective", _search("--objective", "test"), "'--objective': 'test' is not one of"),
    ("unknown-option", _search("--budgett", "5"), "No such option '--budgett'"),
    ("unknown-command", ["serch"], "No such command 'serch'"),
    ("live-without-cache", _search("--space", "darts", "--objective", "live"), "--objective live needs --cache"),
    # paths
    ("data-dir-missing", _search("--data-dir", "{in}/missing"), "does not exist"),
    ("data-dir-is-file", _search("--data-dir", "{in}/afile"), "does not exist"),
    ("cache-missing", _search("--cache", "{in}/missing"), "--cache '{in}/missing' does not exist"),
    ("cache-uri", _search("--cache", "s3://bucket/cache"), "reads local paths; stage the URI down"),
    ("out-under-a-file", _search("--out", "{in}/afile/out"), "'{in}/afile' is a file, not a directory"),
    ("resume-nothing", ["search", "--resume", "{in}/empty_dir"], "holds no robot-ray search to resume"),
    # a cache dir that is not a cache, damaged caches, bad metric tables
    ("cache-not-a-cache", _search("--cache", "{in}/not_a_cache"), "is not a robot-ray metric cache"),
    ("cache-empty-dir", _search("--cache", "{in}/empty_dir"), "is not a robot-ray metric cache"),
    ("cache-flipped-shard", _search("--cache", "{in}/flipped", "--metrics", "synflow,snip"),
     "shard file shard-000001.parquet is bad (checksum mismatch"),
    ("cache-truncated-manifest", _search("--cache", "{in}/truncated_manifest", "--metrics", "synflow,snip"),
     "cannot read the manifest"),
    ("cache-deleted-manifest", _search("--cache", "{in}/deleted_manifest", "--metrics", "synflow,snip"),
     "has shard files but no _manifest.json"),
    ("table-nan-only", _search("--cache", "{in}/nan_only.parquet", "--metrics", "synflow,snip"),
     "metric 'synflow' has no finite value"),
    ("table-text-column", _search("--cache", "{in}/text.parquet", "--metrics", "synflow,snip"),
     "metric column 'synflow'"),
    ("table-constant", _search("--cache", "{in}/constant.parquet", "--metrics", "synflow,snip"),
     "metric 'snip' is constant"),
    ("table-not-parquet", _search("--cache", "{in}/garbage.parquet", "--metrics", "synflow,snip"),
     "is not a Parquet metric table"),
    # precompute
    ("pool-too-large", _precompute("--archs", "sample:100000001"), "sample:N takes N up to 100,000,000"),
    ("pool-zero", _precompute("--archs", "sample:0"), "sample:N needs N >= 1"),
    ("pool-negative", _precompute("--archs", "sample:-5"), "malformed --archs 'sample:-5'"),
    ("archs-huge-range", _precompute("--archs", "0-100000000000"), "lists 100,000,000,001 ids"),
    ("archs-text", _precompute("--archs", "first"), "malformed --archs"),
    ("archs-empty", _precompute("--archs", ""), "no --archs"),
    ("archs-beyond-nb201", _precompute("--archs", "15625"), "NB201 ids are 0..15624, got 15625"),
    ("cpus-per-actor-nan", _precompute("--cpus-per-actor", "nan"), "--cpus-per-actor must be a finite number > 0"),
    ("gpus-per-actor-inf", _precompute("--gpus-per-actor", "inf"), "--gpus-per-actor must be a finite number >= 0"),
    ("precompute-num-cpus", _precompute("--num-cpus", "0"), "--num-cpus must be a finite number >= 1"),
    ("precompute-seed", _precompute("--seed", "-1"), "--seed must be in 0..2147483647, got -1"),
    ("precompute-metric", _precompute("--metrics", "synflow,bogus"), "unknown metric 'bogus'"),
    ("precompute-dataset", _precompute("--dataset", "mnist"), "unknown image dataset 'mnist'"),
    ("precompute-space", _precompute("--space", "nb101"), "precompute supports the spaces nb201, darts"),
    ("darts-ids-without-pool", _precompute("--space", "darts", "--archs", "0-5"), "start with --archs sample:N"),
    ("precompute-into-non-cache", [*_precompute()[:-1], "{in}/not_a_cache"], "is not empty and is not a metric cache"),
    ("precompute-into-deleted-manifest", [*_precompute()[:-1], "{in}/deleted_manifest"],
     "has shard files but no _manifest.json"),
    # sizes: refused before a network is built or a genotype list expanded (robot_ray.networks.MAX_SIZE)
    ("describe-layers-huge", _describe("--layers", "100000"), "network layers must be in 1..64, got 100000"),
    ("describe-channels-huge", _describe("--channels", "100000"), "network channels must be in 1..128"),
    ("describe-classes-huge", _describe("--classes", "1000000000"), "network classes must be in 1..100000"),
    ("genotype-concat-huge-range",
     _describe(arch=DARTS_V2.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=range(0, 200000000)")),
     "range(0, 200000000) at position"),
    ("genotype-concat-2e9", _describe(arch=DARTS_V2.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=range(0,2e9)")),
     "malformed DARTS genotype string"),
    ("genotype-number-huge", _describe(arch=DARTS_V2.replace(", 0)", ", 2000000000)", 1)),
     "number 2000000000 at position"),
    ("genotype-too-long", _describe(arch=DARTS_V2 + " " * 5000), "at most 4,096 are read"),
    ("precompute-darts-cells-huge", _precompute("--space", "darts", "--archs", "sample:4", "--cells", "100000"),
     "--cells must be in 1..64, got 100000"),
    ("precompute-channels-huge", _precompute("--channels", "100000"), "--channels must be in 1..128, got 100000"),
    ("search-live-layers-huge",
     _search("--space", "darts", "--objective", "live", "--cache", "{in}/missing", "--layers", "100000"),
     "--layers must be in 1..64, got 100000"),
    ("search-live-channels-huge",
     _search("--space", "darts", "--objective", "live", "--cache", "{in}/missing", "--channels", "4096"),
     "--channels must be in 1..128, got 4096"),
    # compare and report
    ("compare-seeds", ["compare", "--seeds", "0-100000000", "--out", "{out}"], "names 100000001 seeds"),
    ("compare-budget", ["compare", "--budget", "0", "--out", "{out}"], "--budget must be a finite number >= 1"),
    ("report-missing", ["report", "{in}/missing"], "'{in}/missing' does not exist"),
    ("report-nothing", ["report", "{in}/empty_dir", "--to", "{out}"], "no summary.json under"),
    # more malformed numbers: refused up front, not in a Tune trial (a traceback) nor honoured silently
    ("init-trials-zero", _search("--init-trials", "0"), "--init-trials must be a finite number >= 1, got 0"),
    ("init-trials-negative", _search("--init-trials", "-3"), "--init-trials must be a finite number >= 1"),
    ("init-trials-huge", _search("--init-trials", "100000000"), "--init-trials must be at most 1,000,000"),
    ("bo-rounds-beyond-int64", _search("--bo-rounds", "99999999999999999999"), "--bo-rounds must be at most 1,000,000"),
    ("num-cpus-beyond-machine", _search("--num-cpus", "100000000"), "is more than this machine's"),
    ("precompute-num-cpus-beyond-machine", _precompute("--num-cpus", "100000000"), "is more than this machine's"),
    # empty values: read as "not given" (a local Ray, a new search, the working directory) before
    ("search-out-empty", _search("--out", ""), "--out is empty"),
    ("search-address-empty", _search("--address", ""), "--address is empty"),
    ("search-data-dir-empty", _search("--data-dir", ""), "--data-dir is empty"),
    ("search-cache-empty", _search("--cache", ""), "--cache is empty"),
    ("resume-empty", ["search", "--resume", ""], "--resume is empty"),
    ("precompute-out-empty", [*_precompute()[:-1], ""], "--out is empty"),
    ("report-to-empty", ["report", "{in}/empty_dir", "--to", ""], "--to is empty"),
    # flags that did nothing where given: honoured or refused
    ("engine-with-baseline", _search("--method", "rs", "--engine", "ax"), "--engine set(s) RoBoT's BO and do(es) nothing"),
    ("acquisition-with-baseline", _search("--method", "rea", "--acquisition", "logei"), "with --method rea"),
    ("bo-rounds-with-baseline", _search("--method", "rs", "--bo-rounds", "3"), "--bo-rounds set(s) RoBoT's BO"),
    ("table-trials-no-ray", _search("--no-ray", "--table-trials", "query"), "--table-trials set(s) how Ray runs"),
    ("address-no-ray", _search("--no-ray", "--address", "127.0.0.1:1"), "leave it out, or drop --no-ray"),
    ("num-cpus-table-baseline", _search("--method", "rs", "--num-cpus", "1"), "--method rs on a table runs in this"),
    # an earlier search in --out, damaged or foreign resume state
    ("search-into-earlier-search", _search("--out", "{in}/earlier"), "already holds a search"),
    ("resume-config-list", ["search", "--resume", "{in}/config_list"], "search_config.json is damaged (a JSON list"),
    ("resume-config-wrong-type", ["search", "--resume", "{in}/config_budget_text"], "search_config.json is damaged"),
    ("resume-foreign-trials", ["search", "--resume", "{in}/foreign_trials"],
     "has trials of seed(s) 0, not among the recorded seeds [3]"),
    # URIs where a command writes a local directory: they made a directory named 's3:' in the cwd
    ("search-out-uri", _search("--out", "s3://bucket/run"), "--out 's3://bucket/run' is a URI"),
    ("search-out-file-uri", _search("--out", "file:///tmp/robot-ray-run"), "is a URI; this command writes a local"),
    ("precompute-out-uri", [*_precompute()[:-1], "gs://"], "--out 'gs://' is a URI"),
    ("precompute-out-dotdot-uri", [*_precompute()[:-1], "file:///tmp/../tmp/cache"], "is a URI"),
    ("compare-out-uri", ["compare", "--seeds", "0", "--out", "s3://bucket/x"], "--out 's3://bucket/x' is a URI"),
    ("report-to-uri", ["report", "{in}/empty_dir", "--to", "gs://b/r"], "--to 'gs://b/r' is a URI"),
    ("precompute-wait-forever", _precompute("--wait", "1e300"), "--wait must be a number of seconds in 0..604800"),
    # report: edited or foreign result files
    ("report-summary-list", ["report", "{in}/summary_list", "--to", "{out}"], "is not a result summary (a JSON list"),
    ("report-summary-budget-text", ["report", "{in}/summary_budget_text", "--to", "{out}"],
     "budget 'abc' is not a whole number >= 1"),
    ("report-summary-runs-int", ["report", "{in}/summary_runs_int", "--to", "{out}"], "runs is int, not a list"),
    ("report-trajectory-no-seed", ["report", "{in}/trajectory_no_seed", "--to", "{out}"],
     "is not a robot-ray trajectory (no column seed)"),
    # compare: checked before Ray starts
    ("compare-method", ["compare", "--methods", "foo", "--seeds", "0", "--out", "{out}"], "unknown method 'foo'"),
    ("compare-space", ["compare", "--space", "foo", "--seeds", "0", "--out", "{out}"], "unknown search space 'foo'"),
    ("compare-datasets-empty", ["compare", "--datasets", "", "--seeds", "0", "--out", "{out}"], "no datasets in --datasets"),
    ("compare-option-other-method", ["compare", "--methods", "rs", "--option", "rea.foo=1", "--seeds", "0",
                                     "--out", "{out}"], "--option for rea, which --methods does not run"),
    ("compare-table-missing", ["compare", "--methods", "rs", "--metric-table", "{in}/missing.parquet", "--seeds", "0",
                               "--out", "{out}"], "--metric-table '{in}/missing.parquet' does not exist"),
    # SWAP-NAS's live fitness (--fitness live) and baseline options (--option)
    ("fitness-with-robot", _search("--fitness", "live"), "--fitness chooses SWAP-NAS's fitness with --objective live"),
    ("fitness-live-with-cache", _search(*SWAP_LIVE, "--cache", "{in}/not_a_cache"),
     "--fitness live scores SWAP during the search and reads no metric cache: drop --cache"),
    ("fitness-live-with-metrics", _search(*SWAP_LIVE, "--metrics", "swap_reg"), "--metrics does nothing with --fitness live"),
    ("swapnas-live-no-cache", _search(*SWAP_LIVE[:-2]), "or --fitness live (SWAP-NAS scored live, no cache)"),
    ("fitness-live-val-fraction", _search(*SWAP_LIVE, "--val-fraction", "0.3"),
     "--val-fraction does not apply to --fitness live"),
    ("fitness-live-unknown-option", _search(*SWAP_LIVE, "--option", "generations=3"),
     "swapnas --fitness live got unknown option(s) generations"),
    ("fitness-live-score-layers", _search(*SWAP_LIVE, "--option", "score_layers=2"), "layers must be at least 3"),
    ("fitness-live-crossover-word", _search(*SWAP_LIVE, "--option", "crossover=maybe"),
     "swapnas crossover must be True or False, got 'maybe'"),
    ("fitness-live-score-mu-word", _search(*SWAP_LIVE, "--option", "score_mu=abc"), "mu must be a number, got 'abc'"),
    ("fitness-live-score-seed", _search(*SWAP_LIVE, "--option", "score_seed=-1"), "seed must be an int >= 0"),
    ("fitness-live-epochs-0", _search(*SWAP_LIVE, "--epochs", "0"), "train_final settings out of range: epochs=0"),
    ("fitness-live-lr", _search(*SWAP_LIVE, "--lr", "-1"), "lr=-1.0"),
    ("inherit-option-on-table", _search("--method", "prenas", "--option", "inherit=True"),
     "inherit=True is PRE-NAS's weight inheritance"),
    ("option-malformed", _search("--method", "rs", "--option", "cycles"), "malformed --option 'cycles': use NAME=VALUE"),
    ("option-with-robot", _search("--option", "cycles=5"), "--option sets a baseline's option and does nothing with --method robot"),
    ("resume-fitness-differs", ["search", "--resume", "{in}/earlier", "--fitness", "live"],
     "--fitness live (recorded: fitness 'cache') differs"),
    ("resume-option-differs", ["search", "--resume", "{in}/earlier", "--option", "cycles=5"],
     "--option cycles=5 (recorded: method_options {}) differs"),
]


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``root`` with its size and mtime: what "nothing written or changed" compares."""
    return {str(p.relative_to(root)): (p.lstat().st_size, p.lstat().st_mtime_ns) for p in root.rglob("*")}


@pytest.fixture
def no_ray(monkeypatch):
    import ray

    if ray.is_initialized():  # an earlier test's shared Ray (tests/conftest.py): connect() would join it
        ray.shutdown()

    def tripwire(*args, **kwargs):
        raise AssertionError("Ray was started for input that could be checked without it")

    monkeypatch.setattr(ray, "init", tripwire)


@pytest.mark.parametrize("argv, words", [pytest.param(a, w, id=i) for i, a, w in ROWS])
def test_bad_input(inputs, data_dir, tmp_path, monkeypatch, no_ray, argv, words):
    monkeypatch.setenv("ROBOT_RAY_DATA", str(data_dir))
    monkeypatch.chdir(tmp_path)  # a relative default output would land here, and be seen
    out = tmp_path / "out"
    argv = [a.replace("{in}", str(inputs)).replace("{out}", str(out)) for a in argv]
    if "--out" not in argv and "--resume" not in argv and argv[0] in ("search", "precompute", "compare"):
        argv += ["--out", str(out)]
    words = words.replace("{in}", str(inputs))
    before = _tree(inputs)

    result = CliRunner().invoke(main, argv)

    output = result.output
    assert result.exit_code == 2, (argv, output, result.exception)
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("robot-ray: error:"), output
    assert words in lines[0], output
    assert "Traceback" not in output
    assert not out.exists() and list(tmp_path.iterdir()) == [], "an output was created"
    assert _tree(inputs) == before, "an input was changed"


def test_rows_are_many_and_distinct():
    ids = [r[0] for r in ROWS]
    assert len(ids) == len(set(ids)) and len(ids) >= 25


# ---------------------------------------------------------------- requests the cluster cannot meet (Ray starts)


@pytest.fixture
def own_ray():
    import ray

    if ray.is_initialized():  # the CLI must start its own, of --num-cpus 1
        ray.shutdown()
    yield
    ray.shutdown()


@pytest.mark.parametrize("flags, words", [
    (["--trial-cpus", "64"], "each Tune trial asks for 64 CPU"),
    (["--trial-gpus", "1"], "each Tune trial asks for 0.25 CPU, 1 GPU"),
])
def test_trial_request_beyond_the_cluster(data_dir, tmp_path, monkeypatch, own_ray, flags, words):
    """Tune would keep such a trial pending forever: refused once Ray is up, before --out is written."""
    monkeypatch.setenv("ROBOT_RAY_DATA", str(data_dir))
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, _search("--num-cpus", "1", *flags, "--out", str(out)))
    assert result.exit_code == 2, (result.output, result.exception)
    lines = [ln for ln in result.output.splitlines() if ln.startswith("robot-ray:")]
    assert len(lines) == 1 and lines[0].startswith("robot-ray: error:") and words in lines[0], result.output
    assert "the cluster has 1 CPU, 0 GPU" in lines[0] and "Traceback" not in result.output
    assert not out.exists()
