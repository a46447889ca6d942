"""RoBoT on NAS-Bench-201: the Ray Tune path against the same algorithm in a plain loop.

For each dataset, runs the seeds once in a plain Python loop (``use_ray=False``) and once as one
Tune experiment on a local Ray, both through ``robot_ray.run_search`` (what ``robot-ray search``
calls), checks that both queried the same architectures, and prints the mean ± std test accuracy
of the returned architecture and both wall times (the whole call: loading, search, writing
results) with their ratio. Results of the Ray path are written as
``OUT/<dataset>/robot/{trajectory.parquet,summary.json}`` (the layout ``robot-ray report`` reads).

    python bench/nb201_search.py --data-dir ../shared/data --out docs/results/nb201_robot
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

import pandas as pd

from robot_ray import run_search
from robot_ray.cluster import connect
from robot_ray.ranges import parse_int_list

PAPER = {"cifar10": 94.36, "cifar100": 73.51, "ImageNet16-120": 46.34}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("ROBOT_RAY_DATA"))
    parser.add_argument("--datasets", default="cifar10,cifar100,ImageNet16-120")
    parser.add_argument("--metrics", default="synflow,snip,nwot,zen")
    parser.add_argument("--seeds", default="10-19")
    parser.add_argument("--budget", type=int, default=20)
    parser.add_argument("--num-cpus", type=int, default=None)
    parser.add_argument("--trial-cpus", type=float, default=0.25)
    parser.add_argument("--out", default=None, help="write the Ray path's results here")
    parser.add_argument("--modes", default="plain,ray", help="plain, ray or both (the ratio needs both)")
    parser.add_argument("--repeats", default="novel", choices=["novel", "keep"], help="the searcher's repeat rule")
    parser.add_argument("--initial", default="corners", choices=["corners", "sobol"], help="BO's initial design")
    parser.add_argument("--bo-rounds", type=int, default=None, help="BO proposals per seed (default: the CLI's)")
    parser.add_argument("--engine", default="gp", choices=["gp", "ax"], help="the searcher's BO engine")
    args = parser.parse_args()

    seeds = tuple(parse_int_list(args.seeds))
    modes = args.modes.split(",")
    if "ray" in modes:
        connect(num_cpus=args.num_cpus)
    rows = []
    for dataset in args.datasets.split(","):
        common = dict(space="nb201", dataset=dataset, metrics=tuple(args.metrics.split(",")), budget=args.budget,
                      seeds=seeds, data_dir=args.data_dir, repeats=args.repeats, initial=args.initial,
                      bo_rounds=args.bo_rounds, engine=args.engine, trial_resources={"cpu": args.trial_cpus}, progress=False)
        runs, seconds, trajectories = {}, {}, {}
        for mode in modes:
            out = os.path.join(args.out, dataset, "robot") if args.out and mode == "ray" else tempfile.mkdtemp()
            t = time.perf_counter()
            runs[mode] = run_search(**common, out=out, use_ray=(mode == "ray"))
            seconds[mode] = time.perf_counter() - t
            trajectories[mode] = pd.read_parquet(os.path.join(out, "trajectory.parquet"))[["seed", "query", "arch_id"]]
            # the results are trajectory.parquet and summary.json; Tune's experiment (pickles,
            # there only for --resume) does not belong in a results folder that gets committed
            shutil.rmtree(os.path.join(out, "tune"), ignore_errors=True)
        same = len(trajectories) == 2 and trajectories["plain"].equals(trajectories["ray"])
        summary = runs.get("ray") or runs["plain"]
        plain_s, ray_s = seconds.get("plain", float("nan")), seconds.get("ray", float("nan"))
        ds = summary["dataset"]
        rows.append((ds, summary["mean_test_value"], summary["std_test_value"], summary["mean_t0"],
                     summary["mean_cost"], plain_s, ray_s, same))
        print(f"{ds}: test {summary['mean_test_value']:.2f} ± {summary['std_test_value']:.2f} (paper {PAPER[ds]}), "
              f"T0 {summary['mean_t0']:.1f}, cost {summary['mean_cost']:.0f}s, plain {plain_s:.1f}s, ray {ray_s:.1f}s, "
              f"ratio {ray_s / plain_s:.2f}, same archs {same}", flush=True)

    print()
    print("| dataset | RoBoT test acc (ours) | paper | mean T0 | mean query cost (s) | plain loop (s) | Ray Tune (s) | Ray / plain | same archs |")
    print("|---|---|---|---|---|---|---|---|---|")
    for ds, mean, std, t0, cost, p, r, same in rows:
        print(f"| {ds} | {mean:.2f} ± {std:.2f} | {PAPER[ds]} | {t0:.1f} | {cost:.0f} | {p:.1f} | {r:.1f} | {r / p:.2f} | {same} |")


if __name__ == "__main__":
    main()
