"""How well our metric scores agree with published ones and with NB201 accuracy.

Part 1 (``--agree-n`` archs, default 200): Spearman between our synflow/snip/nwot/zen and the
published scores in ``nasbench201/reference_metrics.parquet`` (connected cells, fixed seed).
Part 2 (``--acc-n`` archs, default 500): every metric against NB201 ``test_acc_200ep`` on each
of ``--datasets`` (metrics recomputed with that dataset's batch and classifier width).
Full-size networks on CPU cost ~3 s/arch for part 1 and ~8 s/arch per dataset for part 2 on
a busy core, so pass small sizes while developing. Prints figures only (no asserts).

    python bench/metrics_agreement.py --agree-n 200 --acc-n 500 --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr

from robot_ray.data import resolve_data_dir
from robot_ray.metrics.catalog import default_registry
from robot_ray.metrics.compute import compute_archs
from robot_ray.spaces.nb201 import connected

PUBLISHED = ["synflow", "snip", "nwot", "zen"]


def _sample(archs: pd.Series, n: int, seed: int, only_connected: bool) -> np.ndarray:
    pool = np.array([i for i, a in archs.items() if connected(a)] if only_connected else archs.index)
    return np.sort(np.random.default_rng(seed).choice(pool, size=min(n, len(pool)), replace=False))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None)
    p.add_argument("--agree-n", type=int, default=200, help="archs for part 1 (0 skips it)")
    p.add_argument("--acc-n", type=int, default=500, help="archs for part 2 (0 skips it)")
    p.add_argument("--datasets", default="cifar10,cifar100")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seed", type=int, default=0, help="weights, batch and Gaussian passes")
    p.add_argument("--sample-seed", type=int, default=2024, help="which archs are sampled")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.ERROR)
    data_dir = resolve_data_dir(args.data_dir)
    bench = pd.read_parquet(data_dir / "nasbench201" / "benchmark.parquet")
    ref = pd.read_parquet(data_dir / "nasbench201" / "reference_metrics.parquet")
    archs = bench[bench["dataset"] == "cifar10"].set_index("arch_index").sort_index()["arch_str"]

    if args.agree_n:
        ids = _sample(archs, args.agree_n, args.sample_seed, only_connected=True)
        t = time.perf_counter()
        ours = compute_archs("nb201", [archs[i] for i in ids], dataset="cifar10", metrics=PUBLISHED,
                             batch_size=args.batch_size, seed=args.seed, data_dir=data_dir)
        pub = ref[ref["dataset"] == "cifar10"].set_index("arch_index").loc[ids]
        print(f"\n## Part 1: ours vs published, CIFAR-10, {len(ids)} connected archs, batch {args.batch_size} "
              f"({time.perf_counter() - t:.0f} s)\n\n| metric | spearman |\n|---|---|")
        for m in PUBLISHED:
            print(f"| {m} | {spearmanr(ours[m], pub[m].to_numpy(), nan_policy='omit')[0]:.3f} |")

    if args.acc_n:
        names = list(default_registry().names)
        ids = _sample(archs, args.acc_n, args.sample_seed + 1, only_connected=False)
        table = {}
        for ds in args.datasets.split(","):
            t = time.perf_counter()
            ours = compute_archs("nb201", [archs[i] for i in ids], dataset=ds, metrics=names,
                                 batch_size=args.batch_size, seed=args.seed, data_dir=data_dir)
            acc = bench[bench["dataset"] == ds].set_index("arch_index").loc[ids, "test_acc_200ep"].to_numpy()
            table[ds] = {m: spearmanr(ours[m], acc, nan_policy="omit")[0] for m in names}
            table[ds]["(nan archs)"] = int(ours[names].isna().any(axis=1).sum())
            print(f"[{ds}: {len(ids)} archs in {time.perf_counter() - t:.0f} s]", flush=True)
        frame = pd.DataFrame(table)
        print(f"\n## Part 2: spearman vs NB201 test_acc_200ep, {len(ids)} archs (all cells; NaN omitted)\n")
        print("| metric | " + " | ".join(frame.columns) + " |\n|---|" + "---|" * len(frame.columns))
        for m, row in frame.iterrows():
            print(f"| {m} | " + " | ".join(f"{v:.3f}" if m != "(nan archs)" else f"{v:.0f}" for v in row) + " |")


if __name__ == "__main__":
    main()
