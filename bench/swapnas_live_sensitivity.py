"""Live SWAP-NAS without training: the best regularised SWAP found against cycles, and random sampling.

    python bench/swapnas_live_sensitivity.py --data-dir ../shared/data --out swapnas_live_sensitivity.json

For seeds 0-2: ``swapnas.run_live`` (population 50, S = 10, M = 5) with 0, 20, 40 and 100 cycles,
then the best of as many uniform random genotypes as the 100-cycle run scored. The score is
``SwapScorer`` at 8x5 (channels x cells, the toy runs' size), one CPU thread; scores are memoised
across the runs (the same settings give the same score), so each genotype is computed once.
Results: docs/results/darts_live_baselines/swapnas_live_sensitivity.json and docs/darts.md.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default=os.environ.get("ROBOT_RAY_DATA"))
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--cycles", default="0,20,40,100")
    p.add_argument("--size", default="8x5", help="metric network CxL")
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", default="swapnas_live_sensitivity.json")
    args = p.parse_args()
    import torch

    from robot_ray.baselines import swapnas
    from robot_ray.metrics.swap_live import SwapScorer, SwapScoreSettings
    from robot_ray.spaces import darts

    torch.set_num_threads(1)
    channels, layers = (int(v) for v in args.size.split("x"))
    scorer = SwapScorer(SwapScoreSettings(channels=channels, layers=layers), data_dir=args.data_dir,
                        device=args.device)
    cache: dict[str, float] = {}

    def score(codes: np.ndarray) -> np.ndarray:
        hashes = darts.codes_hashes(codes).tolist()
        todo = [i for i, h in enumerate(hashes) if h not in cache]
        if todo:
            for i, v in zip(todo, scorer(codes[todo])):
                cache[hashes[i]] = float(v)
        return np.array([cache[h] for h in hashes])

    rows, started = [], time.time()
    for seed in (int(s) for s in args.seeds.split(",")):
        for cycles in (int(c) for c in args.cycles.split(",")):
            found = swapnas.run_live(score, seed, cycles=cycles)
            rows.append({"seed": seed, "cycles": cycles, "distinct": len(found.hashes), "best": found.best_fitness,
                         "best_arch_hash": found.best_hash})
            print(rows[-1], flush=True)
        n = rows[-1]["distinct"]
        values = score(darts.sample_codes(np.random.default_rng(1000 + seed), n))
        rows.append({"seed": seed, "cycles": "random", "distinct": n, "best": float(np.nanmax(values))})
        print(rows[-1], flush=True)
    out = {"size": args.size, "device": args.device, "rows": rows, "scored": len(cache),
           "scorer_s": scorer.seconds, "wall_s": time.time() - started}
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
