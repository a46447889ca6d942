"""How well our metrics rank the 725 NB301 genotypes like NASLib's published zero-cost proxies.

For N genotypes of ``darts_nb301/benchmark.parquet`` (default all 725) this computes our metrics
that have a published NASLib counterpart (``jacob_cov`` is NASLib's ``jacov``; zen, swap and
swap_reg have none in the table) and prints the Spearman rank correlation per metric, with N
and the compute seconds per genotype. No asserts.

Network and batch follow NASLib's NB301 zero-cost runs as closely as our builder allows: the
DARTS CIFAR network with C=32 and 8 cells (NASLib ``NasBench301SearchSpace``: channels
32/64/128, stem 96, reductions at cells 3 and 6), one CIFAR-10 training batch of 32
(NASLib ``scripts/zc`` configs), PyTorch default init. See docs/darts.md.

The N genotypes are the first N of a permutation of 0..724 drawn from ``--sample-seed``, so a
smaller N is a prefix of a larger one. Values are cached under ``--out`` (one Parquet file per
chunk, written atomically), keyed by (arch id, metric), so an interrupted run resumes, and a
later run with a larger N or more metrics computes only what is missing. A cache refuses other
network/batch/seed settings. Costs on one busy core: ~0.8 s/genotype for synflow+params+flops,
~13.5 s/genotype with all data metrics (grasp alone ~8 s).

    python bench/nb301_metrics_agreement.py --metrics synflow,params,flops           # all 725
    nohup python bench/nb301_metrics_agreement.py --n 240 > out/nb301_240.log 2>&1 &  # all metrics
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr

from robot_ray.benchmarks.nb301 import NUM_ARCHS, metric_table
from robot_ray.data import resolve_data_dir
from robot_ray.images import load_batch, num_classes
from robot_ray.io.atomic import atomic_write_parquet
from robot_ray.metrics.compute import compute_with_batch

PUBLISHED = {  # our metric -> NASLib column
    "synflow": "synflow", "params": "params", "flops": "flops", "snip": "snip", "grasp": "grasp",
    "fisher": "fisher", "grad_norm": "grad_norm", "jacob_cov": "jacov", "nwot": "nwot",
}
SETTINGS_FILE = "settings.json"


def sample_ids(n: int, sample_seed: int) -> np.ndarray:
    """The first ``n`` of a seeded permutation of the 725 arch ids (a prefix of any larger n)."""
    return np.random.default_rng(sample_seed).permutation(NUM_ARCHS)[: min(n, NUM_ARCHS)]


def open_cache(out: Path, settings: dict) -> pd.DataFrame:
    """Long table ``arch_id, metric, value, seconds`` of what ``out`` holds (empty if new)."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / SETTINGS_FILE
    if path.is_file():
        old = json.loads(path.read_text())
        if old != settings:
            raise SystemExit(f"{out} holds values for {old}, not {settings}: pass another --out")
    else:
        path.write_text(json.dumps(settings, indent=1))
    parts = [pd.read_parquet(p) for p in sorted(out.glob("chunk-*.parquet"))]
    if not parts:
        return pd.DataFrame({"arch_id": pd.Series(dtype="int64"), "metric": pd.Series(dtype="string"),
                             "value": pd.Series(dtype="float64"), "seconds": pd.Series(dtype="float64")})
    return pd.concat(parts, ignore_index=True).drop_duplicates(["arch_id", "metric"], keep="last")


def write_chunk(out: Path, frame: pd.DataFrame) -> None:
    name = f"chunk-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{int(frame['arch_id'].iloc[0]):03d}.parquet"
    atomic_write_parquet(out / name, frame)


def compute_missing(ids: np.ndarray, metrics: list[str], table: pd.DataFrame, cache: pd.DataFrame, out: Path,
                    args: argparse.Namespace, data_dir: Path) -> pd.DataFrame:
    """Compute every (id, metric) the cache lacks, chunk by chunk; returns the updated cache."""
    have = set(zip(cache["arch_id"].tolist(), cache["metric"].tolist()))
    todo = [(int(i), tuple(m for m in metrics if (int(i), m) not in have)) for i in ids]
    todo = [(i, ms) for i, ms in todo if ms]
    if not todo:
        return cache
    batch = load_batch("cifar10", data_dir, args.batch_size, args.seed)
    size = {"channels": args.channels, "layers": args.layers}
    done, start = 0, time.perf_counter()
    while todo:
        group = todo[0][1]  # archs needing the same metrics go together
        chunk = [i for i, ms in todo if ms == group][: args.chunk]
        t = time.perf_counter()
        frame = compute_with_batch("darts", table["arch"].to_numpy()[chunk].tolist(), batch,
                                   num_classes=num_classes("cifar10"), metrics=list(group), seed=args.seed,
                                   size=size)
        per_arch = (time.perf_counter() - t) / len(chunk)
        long = frame.assign(arch_id=chunk).melt(id_vars="arch_id", value_vars=list(group), var_name="metric")
        long["seconds"] = per_arch / len(group)  # the chunk's time spread evenly over its metrics
        long["metric"] = long["metric"].astype("string")
        write_chunk(out, long)
        cache = pd.concat([cache, long], ignore_index=True)
        done_ids = set(chunk)
        todo = [(i, ms) for i, ms in todo if i not in done_ids]
        done += len(chunk)
        print(f"[{done}/{done + len(todo)} genotypes, {per_arch:.2f} s/genotype for {','.join(group)}, "
              f"{time.perf_counter() - start:.0f} s]", flush=True)
    return cache


def report(ids: np.ndarray, metrics: list[str], table: pd.DataFrame, cache: pd.DataFrame,
           args: argparse.Namespace) -> None:
    wide = cache.pivot_table(index="arch_id", columns="metric", values="value", aggfunc="last")
    secs = cache[cache["metric"].isin(metrics)].groupby("arch_id")["seconds"].sum()
    print(f"\n## Ours vs NASLib's published NB301 proxies: {len(ids)} genotypes (sample seed {args.sample_seed})\n")
    print(f"network: DARTS CIFAR C={args.channels}, {args.layers} cells; batch {args.batch_size} CIFAR-10 train "
          f"images; weights/batch seed {args.seed}; {secs.loc[secs.index.intersection(ids)].mean():.2f} s/genotype "
          f"(the listed metrics together, {args.threads} thread(s))\n")
    print("| ours | NASLib | N | spearman | NaN |\n|---|---|---|---|---|")
    for m in metrics:
        ours = wide.reindex(ids)[m].to_numpy() if m in wide else np.full(len(ids), np.nan)
        pub = table[PUBLISHED[m]].to_numpy()[ids]
        ok = np.isfinite(ours) & np.isfinite(pub)
        rho = spearmanr(ours[ok], pub[ok])[0] if ok.sum() > 2 else float("nan")
        print(f"| {m} | {PUBLISHED[m]} | {int(ok.sum())} | {rho:.3f} | {int((~np.isfinite(ours)).sum())} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None)
    p.add_argument("--n", type=int, default=NUM_ARCHS, help="genotypes (default all 725)")
    p.add_argument("--metrics", default=",".join(PUBLISHED), help="ours, comma-separated")
    p.add_argument("--seed", type=int, default=0, help="weights and image batch")
    p.add_argument("--sample-seed", type=int, default=301, help="which genotypes (a prefix of one permutation)")
    p.add_argument("--channels", type=int, default=32)
    p.add_argument("--layers", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--chunk", type=int, default=8, help="genotypes per cached chunk")
    p.add_argument("--out", default="out/nb301_agreement", help="value cache (resumable)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--report-only", action="store_true", help="print the table from the cache, compute nothing")
    args = p.parse_args()
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    unknown = [m for m in metrics if m not in PUBLISHED]
    if unknown:
        raise SystemExit(f"no published counterpart for {', '.join(unknown)}; choose from {', '.join(PUBLISHED)}")
    torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.ERROR)
    data_dir = resolve_data_dir(args.data_dir)
    table = metric_table(data_dir)
    ids = sample_ids(args.n, args.sample_seed)
    out = Path(args.out)
    settings = {"channels": args.channels, "layers": args.layers, "batch_size": args.batch_size, "seed": args.seed}
    cache = open_cache(out, settings)
    if not args.report_only:
        cache = compute_missing(ids, metrics, table, cache, out, args, data_dir)
    report(ids, metrics, table, cache, args)


if __name__ == "__main__":
    main()
