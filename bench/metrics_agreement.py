"""How well our metric scores agree with published ones and with NB201 accuracy.

Part 1 (``--agree-n`` archs, default 200): Spearman between our synflow/snip/nwot/zen and the
published scores in ``nasbench201/reference_metrics.parquet`` (connected cells, fixed seed).
Part 2 (``--acc-n`` archs, default 500): every metric against NB201 ``test_acc_200ep`` on each
of ``--datasets`` (metrics recomputed with that dataset's batch and classifier width). Part 2
computes through ``robot-ray precompute`` into ``--cache-dir/<dataset>`` (one metric cache per
dataset), so an interrupted run resumes where it stopped and the table can be rebuilt from
the caches; it writes ``predictive.md`` and ``predictive.png`` there.
Full-size networks cost ~2.5 s/arch per dataset for all twelve metrics on one idle CPU core,
so pass small sizes while developing. Prints figures only (no asserts).

    python bench/metrics_agreement.py --agree-n 200 --acc-n 500 --data-dir ../shared/data
    python bench/metrics_agreement.py --agree-n 0 --acc-n 500 --data-dir ../shared/data \
        --cache-dir docs/results/metrics_agreement --num-cpus 2
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr

from robot_ray.cache.table import read_cache_table
from robot_ray.data import resolve_data_dir
from robot_ray.metrics.catalog import default_registry
from robot_ray.metrics.compute import compute_archs
from robot_ray.precompute import PrecomputeConfig, run_precompute
from robot_ray.report.plots import pyplot, save_figure
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
    p.add_argument("--cache-dir", default="out/metrics_agreement",
                   help="part 2's metric caches (one per dataset, resumable) and its table/plot")
    p.add_argument("--num-cpus", type=int, default=None, help="CPUs of part 2's local Ray (default: all)")
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
        ids = _sample(archs, args.acc_n, args.sample_seed + 1, only_connected=False)
        frame = predictive_power(args, bench, ids, data_dir)
        command = "python " + " ".join(shlex.quote(a) for a in sys.argv)
        lines = [f"Command: `{command}` (rerun: reads the caches, computes only what is missing)", "",
                 f"Spearman vs NB201 test_acc_200ep, {len(ids)} archs drawn from all 15,625 "
                 f"(sample seed {args.sample_seed + 1}), batch {args.batch_size}, seed {args.seed}; NaN omitted",
                 "", "| metric | " + " | ".join(frame.columns) + " |", "|---|" + "---|" * len(frame.columns)]
        for m, row in frame.iterrows():
            lines.append(f"| {m} | " + " | ".join(f"{v:.0f}" if m == "(nan archs)" else f"{v:.3f}" for v in row) + " |")
        out = Path(args.cache_dir)
        (out / "predictive.md").write_text("\n".join(lines) + "\n")
        plot_predictive(frame.drop(index="(nan archs)"), out / "predictive.png", len(ids))
        print("\n## Part 2: " + "\n".join(lines))


def predictive_power(args: argparse.Namespace, bench: pd.DataFrame, ids: np.ndarray, data_dir: Path) -> pd.DataFrame:
    """Spearman of every metric vs test accuracy per dataset, from (resumed) precompute caches."""
    names = list(default_registry().names)
    table = {}
    for ds in args.datasets.split(","):
        t = time.perf_counter()
        config = PrecomputeConfig(space="nb201", dataset=ds, metrics=tuple(names), archs=",".join(map(str, ids)),
                                  out=str(Path(args.cache_dir) / ds), batch_size=args.batch_size, seed=args.seed,
                                  data_dir=str(data_dir), shard_size=16, cpus_per_actor=float(args.threads))
        report = run_precompute(config, num_cpus=args.num_cpus)
        ours = read_cache_table(config.out).set_index("arch_id").loc[ids]
        acc = bench[bench["dataset"] == ds].set_index("arch_index").loc[ids, "test_acc_200ep"].to_numpy()
        table[ds] = {m: spearmanr(ours[m], acc, nan_policy="omit")[0] for m in names}
        table[ds]["(nan archs)"] = int(ours[names].isna().any(axis=1).sum())
        print(f"[{ds}: {report.computed} of {len(ids)} archs computed now, {report.skipped} from the cache, "
              f"{time.perf_counter() - t:.0f} s]", flush=True)
    return pd.DataFrame(table)


def plot_predictive(frame: pd.DataFrame, path: Path, n: int) -> None:
    """Grouped bars: one group per metric, one bar per dataset."""
    fig, ax = pyplot().subplots(figsize=(9, 4))
    width = 0.8 / len(frame.columns)
    x = np.arange(len(frame))
    for k, ds in enumerate(frame.columns):
        ax.bar(x + (k - (len(frame.columns) - 1) / 2) * width, frame[ds], width, label=ds)
    ax.set_xticks(x, frame.index, rotation=30, ha="right")
    ax.set_ylabel("Spearman vs test accuracy")
    ax.set_title(f"Training-free metrics vs NB201 test accuracy ({n} archs)")
    ax.axhline(0, color="black", linewidth=0.5)
    ax.legend()
    save_figure(fig, path)


if __name__ == "__main__":
    main()
