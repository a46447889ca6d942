"""Archs/s of the fused metric engine vs one metric at a time (all metrics, same archs).

Each arch is built once; then all metrics are computed in one fused call and, interleaved on
the same arch, once per metric, so machine load hits both modes alike. Each timing is the
fastest of ``--repeats`` runs, after one untimed warm-up of both modes (the first passes of a
process pay for allocator growth and oneDNN kernel setup, which would otherwise land on
whichever mode runs first). Also checks that both give the same numbers (max relative
difference). Prints figures only (no asserts).

    python bench/metrics_throughput.py --n-archs 3 --dataset cifar10 --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch

from robot_ray.images import load_batch, num_classes
from robot_ray.metrics.catalog import default_registry
from robot_ray.metrics.fused import compute_metrics
from robot_ray.networks import build_network
from robot_ray.spaces.nb201 import format_arch, sample_cells


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-archs", type=int, default=4)
    p.add_argument("--dataset", default="cifar10")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--channels", type=int, default=16)
    p.add_argument("--cells", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3, help="timed runs per arch and mode; the fastest counts")
    p.add_argument("--exclude", default="", help="comma-separated metrics to leave out, e.g. grasp")
    args = p.parse_args()
    args.repeats = max(1, args.repeats)
    torch.set_num_threads(args.threads)
    names = tuple(n for n in default_registry().names if n not in set(args.exclude.split(",")))
    batch = load_batch(args.dataset, args.data_dir, args.batch_size, args.seed)
    cells = sample_cells(np.random.default_rng(args.seed), args.n_archs)
    fused_s = alone_s = 0.0
    per_metric = dict.fromkeys(names, 0.0)
    worst = 0.0

    def timed(metrics: tuple[str, ...]) -> tuple[dict[str, float], float]:
        best = math.inf
        for _ in range(args.repeats):
            t = time.perf_counter()
            values = compute_metrics(net, batch, metrics, seed=args.seed)
            best = min(best, time.perf_counter() - t)
        return values, best

    for i, cell in enumerate(cells):
        net = build_network("nb201", format_arch(cell), num_classes(args.dataset), seed=args.seed,
                            channels=args.channels, cells=args.cells)
        if i == 0:  # untimed warm-up of both modes
            compute_metrics(net, batch, names, seed=args.seed)
            for n in names:
                compute_metrics(net, batch, [n], seed=args.seed)
        fused, dt = timed(names)
        fused_s += dt
        for n in names:
            alone, dt = timed((n,))
            alone_s += dt
            per_metric[n] += dt
            if math.isfinite(alone[n]) and alone[n] != 0:
                worst = max(worst, abs(fused[n] - alone[n]) / abs(alone[n]))
    k = len(cells)
    print(f"{k} NB201 archs (C={args.channels}, N={args.cells}), {args.dataset}, batch {args.batch_size}, "
          f"{args.threads} thread(s), {len(names)} metrics, fastest of {args.repeats} per arch and mode")
    print(f"fused:          {k / fused_s:.4f} archs/s ({fused_s / k:.2f} s/arch)")
    print(f"one at a time:  {k / alone_s:.4f} archs/s ({alone_s / k:.2f} s/arch)")
    print(f"speed-up:       {alone_s / fused_s:.2f}x; max relative difference fused vs alone {worst:.2e}")
    print("alone, s/arch per metric: " + ", ".join(f"{n} {v / k:.2f}" for n, v in per_metric.items()))


if __name__ == "__main__":
    main()
