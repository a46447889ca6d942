"""Our scores rank NB201 architectures like the published ones (reference_metrics.parquet).

24 connected NB201 cells drawn with a fixed seed, CIFAR-10, batch 64, full-size networks
(C=16, N=5); published: synflow/snip/nwot from BigfriendP/zero_cost_NAS (batch 128), zen from
NASLib. Spearman thresholds: >= 0.95 synflow, nwot; >= 0.90 snip, zen. About 40-70 s on one
busy CPU core.
"""

from __future__ import annotations

import pytest

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr

from robot_ray.metrics.compute import compute_archs
from robot_ray.spaces.nb201 import connected

THRESHOLDS = {"synflow": 0.95, "nwot": 0.95, "snip": 0.90, "zen": 0.90}


@pytest.mark.slow
def test_spearman_against_published_scores(data_dir) -> None:
    torch.set_num_threads(1)
    ref = pd.read_parquet(data_dir / "nasbench201" / "reference_metrics.parquet")
    ref = ref[ref["dataset"] == "cifar10"].set_index("arch_index").sort_index()
    bench = pd.read_parquet(data_dir / "nasbench201" / "benchmark.parquet", columns=["arch_index", "arch_str", "dataset"])
    archs = bench[bench["dataset"] == "cifar10"].set_index("arch_index").sort_index()["arch_str"]
    pool = np.array([i for i, a in archs.items() if connected(a)])
    picked = np.sort(np.random.default_rng(2024).choice(pool, size=24, replace=False))
    ours = compute_archs("nb201", [archs[i] for i in picked], dataset="cifar10", metrics=list(THRESHOLDS),
                         batch_size=64, seed=0, data_dir=data_dir)
    for name, threshold in THRESHOLDS.items():
        rho = spearmanr(ours[name].to_numpy(), ref.loc[picked, name].to_numpy())[0]
        assert rho >= threshold, f"{name}: spearman {rho:.3f} < {threshold}"
