"""The embedded live search with parallel BO ("auto": as many trainings at once as Ray's CPUs
hold) against the paper's sequential BO (one at a time): wall time and the cell found, per seed.

    python bench/demo_bo_concurrency.py --seeds 1,2,3 --out docs/results/demo
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import pandas as pd

from robot_ray.ranges import parse_int_list
from robot_ray.runs.demo import DemoConfig, run_demo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--out", default=None, help="write the rows as JSON here")
    args = parser.parse_args()
    rows = []
    for seed in parse_int_list(args.seeds):
        for concurrency in ("auto", 1):
            with tempfile.TemporaryDirectory() as tmp:
                t = time.perf_counter()
                summary = run_demo(DemoConfig(out=tmp, seed=seed, bo_concurrency=concurrency, progress=False))
                wall = time.perf_counter() - t
                traj = pd.read_parquet(Path(tmp) / "trajectory.parquet")
            best = traj.loc[traj["value"].idxmax()]
            rows.append({"seed": seed, "bo_concurrency": concurrency, "wall_s": round(wall, 1),
                         "arch": int(best["arch_id"]), "val": round(float(best["value"]), 2),
                         "test": round(summary["mean_test_value"], 2)})
            print(json.dumps(rows[-1]), flush=True)
    print()
    print("| seed | BO trainings at once | wall (s) | cell | validation (%) | test (%) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['seed']} | {r['bo_concurrency']} | {r['wall_s']} | {r['arch']} | {r['val']} | {r['test']} |")
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "bo_concurrency.json").write_text(json.dumps({"seeds": args.seeds, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
