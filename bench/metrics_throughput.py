"""Archs/s of the fused metric engine vs one metric at a time (all metrics, same archs).

Each arch is built once; then all metrics are computed in one fused call and, interleaved on
the same arch, once per metric, so machine load hits both modes alike. Each timing is the
fastest of ``--repeats`` runs, after one untimed warm-up of both modes (the first passes of a
process pay for allocator growth and oneDNN kernel setup, which would otherwise land on
whichever mode runs first). Also checks that both give the same numbers (max relative
difference). Prints figures only (no asserts).

    python bench/metrics_throughput.py --n-archs 3 --dataset cifar10 --data-dir ../shared/data

``--space darts`` times DARTS cells instead of NB201 ones (``--cells`` is then the number of
layers; default size: the space's, see ``robot_ray.metrics.compute.network_size``). ``--device``
runs the passes on ``cuda`` (the default when CUDA is available) or ``cpu``; on CUDA the batch and
the networks are put on the device once, and every timing ends with a synchronize. ``--json``
also writes the figures (ms/arch fused and per metric) to a file; ``--max-seconds`` stops
sampling further archs once that much time has been spent and reports over the archs done
(``bench/gpu_suite.sh`` uses both). Without these flags, on CPU, it runs as it always did.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import torch

from robot_ray.images import load_batch, num_classes
from robot_ray.metrics.catalog import default_registry
from robot_ray.metrics.compute import network_size
from robot_ray.metrics.fused import compute_metrics
from robot_ray.networks import build_network
from robot_ray.spaces import darts
from robot_ray.spaces.nb201 import format_arch, sample_cells


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-archs", type=int, default=4)
    p.add_argument("--dataset", default="cifar10")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--space", choices=("nb201", "darts"), default="nb201")
    p.add_argument("--channels", type=int, default=None, help="default: the space's (16)")
    p.add_argument("--cells", type=int, default=None, help="NB201 cells per stage (default 5) or DARTS layers (8)")
    p.add_argument("--device", default=None, help="cuda or cpu (default: cuda when available, else cpu)")
    p.add_argument("--json", default=None, help="also write the figures to this JSON file")
    p.add_argument("--max-seconds", type=float, default=None,
                   help="stop after the arch that brings the total past this; report over the archs done")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3, help="timed runs per arch and mode; the fastest counts")
    p.add_argument("--exclude", default="", help="comma-separated metrics to leave out, e.g. grasp")
    args = p.parse_args()
    args.repeats = max(1, args.repeats)
    torch.set_num_threads(args.threads)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    cuda = torch.device(device).type == "cuda"
    size = network_size(args.space, channels=args.channels, cells=args.cells)
    names = tuple(n for n in default_registry().names if n not in set(args.exclude.split(",")))
    batch = load_batch(args.dataset, args.data_dir, args.batch_size, args.seed)
    if cuda:
        batch = tuple(t.to(device) for t in batch)
    rng = np.random.default_rng(args.seed)
    if args.space == "nb201":
        archs = [format_arch(c) for c in sample_cells(rng, args.n_archs)]
    else:
        archs = darts.sample(rng, args.n_archs)
    fused_s = alone_s = 0.0
    per_metric = dict.fromkeys(names, 0.0)
    worst = 0.0

    def timed(metrics: tuple[str, ...]) -> tuple[dict[str, float], float]:
        best = math.inf
        for _ in range(args.repeats):
            t = time.perf_counter()
            values = compute_metrics(net, batch, metrics, device=device, seed=args.seed)
            if cuda:
                torch.cuda.synchronize()
            best = min(best, time.perf_counter() - t)
        return values, best

    started = time.perf_counter()
    k = 0
    for i, arch in enumerate(archs):
        if args.max_seconds is not None and k and time.perf_counter() - started > args.max_seconds:
            break
        net = build_network(args.space, arch, num_classes(args.dataset), seed=args.seed, device=device, **size)
        if i == 0:  # untimed warm-up of both modes
            compute_metrics(net, batch, names, device=device, seed=args.seed)
            for n in names:
                compute_metrics(net, batch, [n], device=device, seed=args.seed)
        fused, dt = timed(names)
        fused_s += dt
        for n in names:
            alone, dt = timed((n,))
            alone_s += dt
            per_metric[n] += dt
            if math.isfinite(alone[n]) and alone[n] != 0:
                worst = max(worst, abs(fused[n] - alone[n]) / abs(alone[n]))
        k += 1
    if args.space == "nb201":
        shape = f"NB201 archs (C={size['channels']}, N={size['cells']})"
    else:
        shape = f"DARTS archs (C={size['channels']}, layers={size['layers']})"
    on = "" if device == "cpu" else f" on {device} ({torch.cuda.get_device_name() if cuda else device})"
    print(f"{k} {shape}, {args.dataset}, batch {args.batch_size}, "
          f"{args.threads} thread(s){on}, {len(names)} metrics, fastest of {args.repeats} per arch and mode")
    print(f"fused:          {k / fused_s:.4f} archs/s ({fused_s / k:.2f} s/arch)")
    print(f"one at a time:  {k / alone_s:.4f} archs/s ({alone_s / k:.2f} s/arch)")
    print(f"speed-up:       {alone_s / fused_s:.2f}x; max relative difference fused vs alone {worst:.2e}")
    print("alone, s/arch per metric: " + ", ".join(f"{n} {v / k:.2f}" for n, v in per_metric.items()))
    if args.json:
        figures = {
            "space": args.space, "size": size, "dataset": args.dataset, "batch_size": args.batch_size,
            "device": device, "device_name": torch.cuda.get_device_name() if cuda else "cpu",
            "threads": args.threads, "repeats": args.repeats, "archs": k, "metrics": list(names),
            "fused_ms_per_arch": 1000 * fused_s / k, "alone_ms_per_arch": 1000 * alone_s / k,
            "speedup": alone_s / fused_s, "max_rel_diff": worst,
            "per_metric_ms_per_arch": {n: 1000 * v / k for n, v in per_metric.items()},
            "wall_s": time.perf_counter() - started,
        }
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)


if __name__ == "__main__":
    main()
