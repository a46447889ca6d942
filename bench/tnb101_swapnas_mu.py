"""SWAP-NAS on TransNAS-Bench-101-micro with zen as the fitness, with and without the model-size
regulariser (``mu = sigma`` on the min-max normalised params column), seeds 0-9, T = 100.

Usage::

    nice -n 19 python bench/tnb101_swapnas_mu.py --data-dir ../shared/data

Prints a Markdown table: mean +- std (ddof 1, as ``bench/tnb101_table.py``) of the validation rank
of the returned cell per task. No swap/swap_reg column exists for TNB101 here, so this measures
whether the paper's size regulariser rescues the best published proxy that covers all seven tasks.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from tnb101_table import PAPER_ROBOT_RANK, task_inputs  # noqa: E402

from robot_ray.baselines import METHODS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="shared data dir (else $ROBOT_RAY_DATA)")
    parser.add_argument("--fitness", default="zen")
    parser.add_argument("--mu", type=float, nargs="+", default=[0.1, 0.25, 0.5, 0.75])
    args = parser.parse_args()
    t0 = time.perf_counter()
    print("| mu = sigma (normalised params) | " + " | ".join(PAPER_ROBOT_RANK) + " |")
    print("|---|" + "---:|" * len(PAPER_ROBOT_RANK))
    for mu in [None, *args.mu]:
        cells = []
        for task in PAPER_ROBOT_RANK:
            bench, matrix = task_inputs(args.data_dir, task)
            extra = {} if mu is None else {"mu": mu}
            ranks = [
                bench.value_rank(
                    METHODS["swapnas"](bench, 100, seed, metrics=matrix, fitness_metric=args.fitness, **extra)
                    .ledger.best().arch_id
                )
                for seed in range(10)
            ]
            cells.append(f"{np.mean(ranks):.1f} +- {np.std(ranks, ddof=1):.1f}")
        print(f"| {'off' if mu is None else mu} | " + " | ".join(cells) + " |", flush=True)
    print(f"\n{time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
