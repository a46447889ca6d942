"""Helpers of the cache tests: tiny NB201 networks, cheap metrics, comparisons."""

from __future__ import annotations

import numpy as np
import pandas as pd

METRICS = ("params", "flops", "nwot", "synflow")
SIZE = {"channels": 4, "cells": 1}
BATCH = 16
REF_IDS = 16  # archs 0..15 of the official NB201 order


def config(out, data_dir, archs="0-11", **kw):
    """A small PrecomputeConfig (no progress bar)."""
    from robot_ray.precompute import PrecomputeConfig

    base = dict(space="nb201", dataset="cifar10", metrics=METRICS, archs=archs, out=str(out), batch_size=BATCH,
                seed=0, data_dir=str(data_dir), channels=SIZE["channels"], cells=SIZE["cells"], shard_size=4,
                num_actors=2, progress=False)
    base.update(kw)
    return PrecomputeConfig(**base)


def cli_args(out, data_dir, archs="0-11", *extra: str) -> list[str]:
    return ["precompute", "--space", "nb201", "--dataset", "cifar10", "--data-dir", str(data_dir),
            "--metrics", ",".join(METRICS), "--archs", archs, "--batch-size", str(BATCH), "--seed", "0",
            "--channels", str(SIZE["channels"]), "--cells", str(SIZE["cells"]), "--out", str(out), *extra]


def assert_matches(table: pd.DataFrame, ref: pd.DataFrame, ids) -> None:
    """One row per id, in order, no duplicates, values equal to the uninterrupted reference."""
    ids = list(ids)
    assert table["arch_id"].tolist() == ids
    assert not table["arch_id"].duplicated().any()
    want = ref.iloc[ids].reset_index(drop=True)
    assert table["arch"].tolist() == want["arch"].tolist()
    for m in METRICS:
        np.testing.assert_allclose(table[m].to_numpy(), want[m].to_numpy(), rtol=1e-6, equal_nan=True, err_msg=m)
