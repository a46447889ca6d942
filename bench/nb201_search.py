"""RoBoT on NAS-Bench-201: the Ray Tune path against the same algorithm in a plain loop.

For each dataset, runs the seeds once in a plain Python loop (no Ray) and once as one Tune
experiment on a local Ray, checks that both queried the same architectures, and prints the
mean ± std test accuracy of the returned architecture and both wall times with their ratio.
Results of the Ray path are written as ``OUT/<dataset>/robot/{trajectory.parquet,summary.json}``
(the layout ``robot-ray report`` reads).

    python bench/nb201_search.py --data-dir ../shared/data --out docs/results/nb201_robot
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

from robot_ray.benchmarks import get_benchmark
from robot_ray.cluster import connect
from robot_ray.metric_sources import load_metrics
from robot_ray.ranges import parse_int_list
from robot_ray.runs.results import write_results
from robot_ray.runs.robot import RobotSettings, TuneSettings, run_robot

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
    args = parser.parse_args()

    seeds = parse_int_list(args.seeds)
    metrics = args.metrics.split(",")
    if "ray" in args.modes.split(","):
        connect(num_cpus=args.num_cpus)
    rows = []
    for dataset in args.datasets.split(","):
        bench = get_benchmark("nb201", dataset, args.data_dir)
        matrix = load_metrics("nb201", metrics, dataset=bench.dataset, data_dir=args.data_dir)
        settings = RobotSettings(budget=args.budget, bo_rounds=args.bo_rounds, repeats=args.repeats,
                                 initial=args.initial)

        modes = args.modes.split(",")
        t = time.perf_counter()
        plain = run_robot(bench, matrix, seeds, settings, use_ray=False) if "plain" in modes else None
        plain_s = time.perf_counter() - t if plain else float("nan")

        out = os.path.join(args.out, dataset, "robot") if args.out else tempfile.mkdtemp()
        t = time.perf_counter()
        ray_runs = run_robot(
            bench, matrix, seeds, settings, use_ray=True, out_dir=out, progress=False,
            tune_settings=TuneSettings(trial_resources={"cpu": args.trial_cpus}),
        ) if "ray" in modes else None
        ray_s = time.perf_counter() - t if ray_runs else float("nan")
        same = plain is not None and ray_runs is not None and all(
            [r.arch_id for r in a.ledger.records] == [r.arch_id for r in b.ledger.records]
            for a, b in zip(plain, ray_runs)
        )
        ray_runs = ray_runs or plain
        if args.out and "ray" in modes:
            write_results(out, ray_runs, method="robot", space="nb201", dataset=bench.dataset,
                          objective=bench.value_name, test_name=bench.test_name, budget=args.budget,
                          metrics=metrics, wall_time_s=ray_s,
                          options={"repeats": args.repeats, "initial": args.initial, "bo_rounds": args.bo_rounds,
                                   "trial_cpus": args.trial_cpus})
        tests = np.array([r.ledger.best().test_value for r in ray_runs])
        t0 = np.mean([r.t0 for r in ray_runs])
        cost = np.mean([r.ledger.total_cost() for r in ray_runs])
        rows.append((bench.dataset, tests.mean(), tests.std(), t0, cost, plain_s, ray_s, same))
        print(f"{bench.dataset}: test {tests.mean():.2f} ± {tests.std():.2f} (paper {PAPER[bench.dataset]}), "
              f"T0 {t0:.1f}, cost {cost:.0f}s, plain {plain_s:.1f}s, ray {ray_s:.1f}s, "
              f"ratio {ray_s / plain_s:.2f}, same archs {same}", flush=True)

    print()
    print("| dataset | RoBoT test acc (ours) | paper | mean T0 | mean query cost (s) | plain loop (s) | Ray Tune (s) | Ray / plain | same archs |")
    print("|---|---|---|---|---|---|---|---|---|")
    for ds, mean, std, t0, cost, p, r, same in rows:
        print(f"| {ds} | {mean:.2f} ± {std:.2f} | {PAPER[ds]} | {t0:.1f} | {cost:.0f} | {p:.1f} | {r:.1f} | {r / p:.2f} | {same} |")


if __name__ == "__main__":
    main()
