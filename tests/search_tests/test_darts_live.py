"""A live DARTS search end to end through the CLI, with tiny settings (CI):

``robot-ray precompute --space darts --archs sample:10:0`` into a cache (3 shards), then
``robot-ray search --space darts --cache CACHE --objective live`` training every queried genotype
(1 epoch, C=4, 3 cells) on a small ``cifar-10-batches-py`` folder in the official format, on a
local 2-CPU Ray. The GPU version of the same commands is in docs/darts.md.
"""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from robot_ray.cache import read_cache_matrix, read_cache_table
from robot_ray.cli import main
from robot_ray.metrics.matrix import read_metric_table
from robot_ray.algorithm.weights import explore_arch, greedy_candidates

METRICS = "synflow,nwot,snip"
POOL = 10
BUDGET = 4
PER_FILE = 32  # 5 training files -> 160 images; the test file 64


def _write_batch(path, x_nhwc: np.ndarray, labels: np.ndarray) -> None:
    """One file of the official python CIFAR-10 format (protocol-2 pickled dict, bytes keys)."""
    entry = {
        b"batch_label": b"fixture",
        b"data": np.ascontiguousarray(x_nhwc.transpose(0, 3, 1, 2)).reshape(len(x_nhwc), -1),
        b"labels": [int(v) for v in labels],
        b"filenames": [b"img_%d.png" % i for i in range(len(labels))],
    }
    with open(path, "wb") as f:
        pickle.dump(entry, f, protocol=2)


@pytest.fixture(scope="module")
def cifar_root(tmp_path_factory, data_dir):
    """A small cifar-10-batches-py folder cut from the shared CIFAR-10 subset."""
    with np.load(data_dir / "images" / "cifar10.npz") as f:
        x, y, xt, yt = f["x_train"], f["y_train"], f["x_test"], f["y_test"]
    folder = tmp_path_factory.mktemp("cifar") / "cifar-10-batches-py"
    folder.mkdir()
    for i in range(5):
        sl = slice(i * PER_FILE, (i + 1) * PER_FILE)
        _write_batch(folder / f"data_batch_{i + 1}", x[sl], y[sl])
    _write_batch(folder / "test_batch", xt[: 2 * PER_FILE], yt[: 2 * PER_FILE])
    return folder


def _invoke(args: list[str]):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


@pytest.mark.slow
def test_live_darts_search_end_to_end(tmp_path, data_dir, cifar_root, ray_session, torch_one_thread):
    cache, out = tmp_path / "cache", tmp_path / "search"
    _invoke([
        "precompute", "--space", "darts", "--dataset", "cifar10", "--data-dir", str(data_dir),
        "--metrics", METRICS, "--archs", f"sample:{POOL}:0", "--batch-size", "8", "--channels", "4",
        "--cells", "3", "--shard-size", "4", "--out", str(cache), "--quiet",
    ])
    table = read_cache_table(cache)
    assert len(table) == POOL and len(list(cache.glob("shard-*.parquet"))) == 3
    # the search-side reader: shard by shard, float32 column-major, equal to the table reader
    names = METRICS.split(",")
    matrix = read_cache_matrix(cache, names)
    reference = read_metric_table(table, names)
    assert np.array_equal(matrix.values, reference.values) and matrix.values.flags.f_contiguous
    assert np.array_equal(matrix.arch_ids, reference.arch_ids) and matrix.notes == reference.notes

    result = _invoke([
        "search", "--space", "darts", "--cache", str(cache), "--objective", "live", "--metrics", METRICS,
        "--budget", str(BUDGET), "--seeds", "0", "--epochs", "1", "--channels", "4", "--layers", "3",
        "--train-batch-size", "32", "--train-subset", "96", "--cifar-root", str(cifar_root),
        "--trial-cpus", "1", "--out", str(out), "--quiet",
    ])
    traj = pd.read_parquet(out / "trajectory.parquet")
    summary = json.loads((out / "summary.json").read_text())

    # exactly BUDGET distinct genotypes of the pool, each trained: finite accuracies in [0, 100]
    assert len(traj) == BUDGET and traj["arch_id"].nunique() == BUDGET
    assert traj["arch_id"].between(0, POOL - 1).all()
    for col in ("value", "test_value"):
        assert all(math.isfinite(v) and 0 <= v <= 100 for v in traj[col]), traj[col]
    assert (traj["cost"] > 0).all()
    assert traj["query"].tolist() == list(range(1, BUDGET + 1))
    by_id = table.set_index("arch_id")["arch"]
    assert traj["arch"].tolist() == [by_id[a] for a in traj["arch_id"]]  # pool ids = cache ids
    # the BO stage took a(w) = argmax of the cache's matrix; the greedy stage went down the ranking
    explore, exploit = traj[traj["stage"] == "explore"], traj[traj["stage"] == "exploit"]
    assert len(explore) + len(exploit) == BUDGET and (traj["stage"].iloc[: len(explore)] == "explore").all()
    for row in explore.itertuples():
        assert row.arch_id == explore_arch(matrix.values, matrix.arch_ids, np.asarray(row.weights, np.float32))
    run = summary["runs"][0]
    best_w = np.array([run["best_weights"][n] for n in names], dtype=np.float32)
    seen = explore["arch_id"].tolist()
    assert exploit["arch_id"].tolist() == greedy_candidates(matrix.values, matrix.arch_ids, best_w, seen, len(exploit))

    # summary and trajectory agree; the returned genotype is the best queried one
    best = traj.loc[traj["value"].idxmax()]
    assert run["queries"] == BUDGET and run["t0"] == len(explore) and summary["budget"] == BUDGET
    assert run["best_arch_id"] == best["arch_id"] and run["best_arch"] == best["arch"]
    assert run["best_value"] == best["value"] and run["best_test_value"] == best["test_value"]
    assert traj["best_value"].iloc[-1] == best["value"]
    assert np.isclose(run["cost"], traj["cost"].sum())
    assert summary["space"] == "darts" and summary["objective"] == "val_acc_live"
    training = summary["training"]
    assert training["epochs"] == 1 and training["size"] == {"channels": 4, "layers": 3}
    assert training["train_subset"] == 96 and training["cifar_root"] == str(cifar_root)
    assert f"best arch {run['best_arch_id']:>6}" in result.output


def test_live_objective_refuses_bad_setups(tmp_path):
    runner = CliRunner()
    no_cache = runner.invoke(main, ["search", "--space", "darts", "--objective", "live", "--out", str(tmp_path)])
    assert no_cache.exit_code == 2 and "--objective live needs --cache" in no_cache.output
    nb201 = runner.invoke(main, ["search", "--space", "nb201", "--objective", "live", "--cache", str(tmp_path)])
    assert nb201.exit_code == 2 and "precomputed DARTS pool" in nb201.output
    table_only = runner.invoke(main, ["search", "--space", "darts", "--epochs", "1", "--cache", str(tmp_path)])
    assert table_only.exit_code == 2 and "apply only with --objective live" in table_only.output
