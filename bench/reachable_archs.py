"""Which architectures can RoBoT reach at all? An upper bound for a metric set on a benchmark.

RoBoT only ever queries a(w) = argmax over the pool of X.w (plus, in its greedy stage, the next
ranks of one w). The architectures that are argmax of *some* w in [-1, 1]^M are the vertices of
the pool's point cloud in metric space; no weight search can return anything else from its BO
stage. This samples many weight vectors (and the 2M signed one-hot corners) and prints, per metric
set, how many architectures are reachable, the best of them by the benchmark's value, and where
that sits in the whole pool.

Usage::

    python bench/reachable_archs.py --space darts --dataset cifar10 --data-dir ../shared/data \\
        --metric-sets grad_norm,snip,grasp,fisher,synflow,jacov \\
        --metric-sets grad_norm,snip,grasp,fisher,synflow,jacov,nwot,epe_nas,params,flops,l2_norm,plain
"""

from __future__ import annotations

import argparse

import numpy as np

from robot_ray.algorithm.induced import InducedArchs
from robot_ray.benchmarks import get_benchmark
from robot_ray.runs.compare import load_metric_matrix


def reachable(pool: InducedArchs, samples: int, seed: int, chunk: int = 4096) -> np.ndarray:
    """Arch ids that are a(w) (the searcher's own argmax, ties to the lowest row) of at least one
    sampled weight vector or signed corner."""
    rng = np.random.default_rng(seed)
    m = pool.X.shape[1]
    hits = set(pool.induce(np.concatenate([np.eye(m), -np.eye(m)])).tolist())
    for start in range(0, samples, chunk):
        hits.update(pool.induce(rng.uniform(-1, 1, (min(chunk, samples - start), m))).tolist())
    return np.array(sorted(hits))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--space", default="darts")
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--metric-sets", action="append", required=True, help="comma list; repeat for several sets")
    parser.add_argument("--samples", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    bench = get_benchmark(args.space, args.dataset, args.data_dir)
    values = np.asarray(bench.values, dtype=float)
    tests = np.asarray(bench.test_values, dtype=float)
    print(f"{args.space}/{bench.dataset}: {bench.num_archs} archs, best value {np.nanmax(values):.2f} "
          f"(test {tests[np.nanargmax(values)]:.2f}); {args.samples} sampled weight vectors + corners")
    print()
    print("| metrics | M | reachable archs | best reachable value | its pool rank | its test value |")
    print("|---|---:|---:|---:|---:|---:|")
    for spec in args.metric_sets:
        names = spec.split(",")
        matrix = load_metric_matrix(args.space, bench.dataset, args.data_dir, names, num_archs=bench.num_archs)
        ids = reachable(InducedArchs(matrix.values, matrix.arch_ids), args.samples, args.seed)
        best = int(ids[np.nanargmax(values[ids])])
        print(f"| {spec} | {len(names)} | {len(ids)} | {values[best]:.2f} | {bench.value_rank(best)} | {tests[best]:.2f} |")


if __name__ == "__main__":
    main()
