"""How SWAP's predictive power depends on its sample count and repeats (why swap counts 16 images).

For the first ``--n`` archs of ``metrics_agreement.py``'s 500-arch sample (sample seed 2025, ids
sorted), computes SWAP over the first S images of the 64-image metric batch, averaged over R
Gaussian re-initialisations (seeds 0..R-1), for every S in ``--samples`` and R in ``--repeats``,
and prints Spearman vs NB201 ``test_acc_200ep`` for swap and swap_reg (default mu, sigma).
S=16, R=1 is what the ``swap`` metric computes. Prints figures only (no asserts).

    python bench/swap_samples.py --n 200 --dataset cifar100 --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr

from robot_ray.data import resolve_data_dir
from robot_ray.images import load_batch, num_classes
from robot_ray.metrics.catalog import SWAP_REG_MU, SWAP_REG_SIGMA
from robot_ray.metrics.passes import run_gaussian_pass
from robot_ray.networks import build_network


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None)
    p.add_argument("--dataset", default="cifar100")
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--samples", default="16,64")
    p.add_argument("--repeats", default="1,8")
    p.add_argument("--sample-seed", type=int, default=2025, help="metrics_agreement.py part 2's sample")
    args = p.parse_args()
    torch.set_num_threads(1)
    data_dir = resolve_data_dir(args.data_dir)
    bench = pd.read_parquet(data_dir / "nasbench201" / "benchmark.parquet")
    table = bench[bench["dataset"] == args.dataset].set_index("arch_index").sort_index()
    ids = np.sort(np.random.default_rng(args.sample_seed).choice(table.index.to_numpy(), 500, replace=False))[: args.n]
    samples = [int(s) for s in args.samples.split(",")]
    repeats = [int(r) for r in args.repeats.split(",")]
    x, _ = load_batch(args.dataset, data_dir, max(samples), 0)
    values = {(s, r): np.zeros(len(ids)) for s, r in itertools.product(samples, repeats)}
    params = np.zeros(len(ids))
    t = time.perf_counter()
    for i, arch_id in enumerate(ids):
        net = build_network("nb201", table.loc[arch_id, "arch_str"], num_classes(args.dataset), seed=0)
        for seed in range(max(repeats)):
            for s in samples:  # the metric's own pass, with the image count varied
                rec = run_gaussian_pass(net, x, {"swap"}, seed, "cpu", swap_samples=s)
                params[i] = rec["params"]
                for r in repeats:
                    if seed < r:
                        values[(s, r)][i] += rec["swap"] / r
    acc = table.loc[ids, "test_acc_200ep"].to_numpy()
    reg = np.exp(-((params / 1e3 - SWAP_REG_MU) ** 2) / SWAP_REG_SIGMA)
    print(f"{len(ids)} NB201 archs, {args.dataset}, Spearman vs test_acc_200ep ({time.perf_counter() - t:.0f} s)\n")
    print("| images | repeats | swap | swap_reg |\n|---|---|---|---|")
    for (s, r), v in values.items():
        print(f"| {s} | {r} | {spearmanr(v, acc)[0]:.3f} | {spearmanr(v * reg, acc)[0]:.3f} |")


if __name__ == "__main__":
    main()
