"""RoBoTSearcher in a user's own tune.Tuner, as the README shows it, at a given concurrency.

One Tuner per seed (what a user's script does), NB201 with the four published metrics, and the
paper's objective (CIFAR-10 12-epoch validation accuracy); prints each seed's distinct
architectures, returned architecture and test accuracy, then the mean, and writes them to
``--out`` as JSON. Sequential BO is the reference: ``--concurrency 1``.

    python bench/tuner_concurrency.py --data-dir ../shared/data --seeds 0-9 --concurrency 4
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from ray import tune

import robot_ray as rr
from robot_ray.cluster import connect
from robot_ray.ranges import parse_int_list


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--seeds", default="0-9")
    parser.add_argument("--budget", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--num-cpus", type=int, default=2)
    parser.add_argument("--out", default=None, help="JSON file for the figures")
    parser.add_argument("--no-reuse-actors", action="store_true",
                        help="Tune's default: a new actor (process) per trial, ~1.3 s each on 2 cores")
    args = parser.parse_args()
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    connect(num_cpus=args.num_cpus)  # a local Ray on 127.0.0.1 only
    bench = rr.get_benchmark("nb201", dataset=args.dataset, data_dir=args.data_dir)
    metrics = rr.load_metrics("nb201", ["synflow", "snip", "nwot", "zen"], dataset=args.dataset, data_dir=args.data_dir)

    def trainable(config):
        tune.report({"accuracy": bench.query(bench.arch_id(config["arch"])).value})

    rows = []
    with tempfile.TemporaryDirectory() as storage:
        for seed in parse_int_list(args.seeds):
            started = time.time()
            searcher = rr.RoBoTSearcher(metrics, budget=args.budget, seed=seed, metric="accuracy", mode="max")
            grid = tune.Tuner(trainable, tune_config=tune.TuneConfig(
                search_alg=searcher, metric="accuracy", mode="max", num_samples=-1,
                max_concurrent_trials=args.concurrency, reuse_actors=not args.no_reuse_actors),
                run_config=tune.RunConfig(storage_path=storage, verbose=0, log_to_file=False)).fit()
            best = searcher.best()
            row = {"seed": seed, "trials": len(grid), "distinct": len({r.config["arch_id"] for r in grid}),
                   "arch_id": best["arch_id"], "test": bench.query(best["arch_id"]).test_value, "t0": searcher.t0,
                   "seconds": round(time.time() - started, 1)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    tests = [r["test"] for r in rows]
    summary = {"dataset": args.dataset, "budget": args.budget, "concurrency": args.concurrency,
               "reuse_actors": not args.no_reuse_actors,
               "mean_test": float(np.mean(tests)), "std_test": float(np.std(tests)),
               "all_distinct": all(r["distinct"] == r["trials"] == args.budget for r in rows), "runs": rows}
    print(f"concurrency {args.concurrency}: test {summary['mean_test']:.2f} ± {summary['std_test']:.2f} over "
          f"{len(rows)} seeds; exactly {args.budget} distinct per seed: {summary['all_distinct']}")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
