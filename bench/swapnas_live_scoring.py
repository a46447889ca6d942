"""Throughput of SWAP-NAS's live scorer: DARTS genotypes scored per second on one device.

    python bench/swapnas_live_scoring.py --data-dir ../shared/data                  # CPU, the defaults
    python bench/swapnas_live_scoring.py --data-dir DATA --device cuda               # a GPU, no Ray needed
    python bench/swapnas_live_scoring.py --data-dir DATA --sizes 16x8,8x5,4x3 --evolve 30 --out scoring.json

Scores ``--genotypes`` uniform DARTS genotypes (``robot_ray.spaces.darts.sample_codes``, seed
``--sample-seed``) with :class:`robot_ray.metrics.swap_live.SwapScorer` in batches of ``--batch``
(a live SWAP-NAS cycle scores its M = 5 mutants as one batch), per metric-network size
``CxL`` (channels x cells; 16x8 is the precompute's DARTS default, the live search's default).
The first batch is a warm-up and is timed apart (CUDA start-up, allocator). ``--evolve CYCLES``
also times a whole live evolution (``swapnas.run_live``, population 50, M 5) on the same scorer:
what one seed of ``--fitness live`` spends before its training. Prints one JSON object (and
writes it to ``--out``). Imports neither Ray nor Tune: it runs on a bare GPU machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default=os.environ.get("ROBOT_RAY_DATA"), help="shared data (images/cifar10.npz)")
    p.add_argument("--dataset", default="cifar10")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--genotypes", type=int, default=40, help="genotypes timed per size (after the warm-up batch)")
    p.add_argument("--batch", type=int, default=5, help="genotypes per scorer call (a cycle's M)")
    p.add_argument("--sizes", default="16x8", help="metric networks CxL, comma-separated (16x8: the default)")
    p.add_argument("--sample-seed", type=int, default=0)
    p.add_argument("--evolve", type=int, default=0, metavar="CYCLES", help="also time a live evolution of CYCLES")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--out", default=None, help="also write the JSON here")
    return p.parse_args(argv)


def sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def main(argv=None) -> dict:
    args = parse_args(argv)
    import torch

    from robot_ray.baselines import swapnas
    from robot_ray.metrics.swap_live import SwapScorer, SwapScoreSettings
    from robot_ray.spaces import darts

    if args.threads:
        torch.set_num_threads(args.threads)
    device_name = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else platform.processor() or "cpu"
    out = {"device": args.device, "device_name": device_name, "torch": torch.__version__,
           "threads": torch.get_num_threads(), "ray_imported": "ray" in sys.modules, "batch": args.batch,
           "load_avg": os.getloadavg()[0], "sizes": []}
    codes = darts.sample_codes(np.random.default_rng(args.sample_seed), args.genotypes + args.batch)
    for spec in args.sizes.split(","):
        channels, layers = (int(v) for v in spec.lower().split("x"))
        scorer = SwapScorer(SwapScoreSettings(dataset=args.dataset, channels=channels, layers=layers),
                            data_dir=args.data_dir, device=args.device)
        t0 = time.perf_counter()
        scorer(codes[: args.batch])
        sync(args.device)
        warmup = time.perf_counter() - t0
        t0 = time.perf_counter()
        values = []
        for start in range(args.batch, len(codes), args.batch):
            values.extend(scorer(codes[start:start + args.batch]).tolist())
        sync(args.device)
        wall = time.perf_counter() - t0
        row = {"size": spec, "genotypes": len(values), "wall_s": round(wall, 3), "warmup_batch_s": round(warmup, 3),
               "genotypes_per_s": round(len(values) / wall, 2), "ms_per_genotype": round(1e3 * wall / len(values), 1),
               "nan": int(np.isnan(values).sum()), "swap_reg_range": [float(np.nanmin(values)), float(np.nanmax(values))]}
        if args.evolve:
            live = SwapScorer(scorer.settings, data_dir=args.data_dir, device=args.device)
            t0 = time.perf_counter()
            found = swapnas.run_live(live, 0, cycles=args.evolve)
            sync(args.device)
            row["evolution"] = {"cycles": args.evolve, "wall_s": round(time.perf_counter() - t0, 2),
                                "distinct_scored": len(found.hashes), "fitness_calls": found.calls,
                                "scorer_s": round(live.seconds, 2)}
        out["sizes"].append(row)
        print(json.dumps(row), file=sys.stderr)
    text = json.dumps(out, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    return out


if __name__ == "__main__":
    main()
