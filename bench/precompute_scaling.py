"""Precompute throughput: archs/s of `run_precompute` with 1, 2, ... actors on the same archs.

Each actor count writes a fresh cache in a temporary directory; the figure is computed archs per
second from the first actor ready to the last shard written (actor start-up excluded; it is
printed separately as the wall time). On a GPU cluster, add counts and --gpus-per-actor.

    python bench/precompute_scaling.py --data-dir ../shared/data --archs 0-63 --actors 1,2 \
        --channels 4 --cells 1 --metrics params,flops,nwot,synflow --num-cpus 2
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import ray

from robot_ray.precompute import PrecomputeConfig, run_precompute
from robot_ray.ranges import parse_int_list


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--space", default="nb201")
    p.add_argument("--dataset", default="cifar10")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--metrics", default="params,flops,nwot,synflow")
    p.add_argument("--archs", default="0-63")
    p.add_argument("--actors", default="1,2", help="actor counts to compare, e.g. 1,2,4")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--channels", type=int, default=4)
    p.add_argument("--cells", type=int, default=1)
    p.add_argument("--shard-size", type=int, default=8)
    p.add_argument("--cpus-per-actor", type=float, default=1.0)
    p.add_argument("--gpus-per-actor", type=float, default=None)
    p.add_argument("--num-cpus", type=int, default=None, help="CPUs of the local Ray (default: all)")
    p.add_argument("--address", default=None)
    args = p.parse_args()

    from robot_ray.cluster import connect

    connect(address=args.address, num_cpus=args.num_cpus)
    print(f"cluster: {ray.cluster_resources()}")
    print(f"{'actors':>6} {'archs':>6} {'wall s':>8} {'compute s':>10} {'archs/s':>8}")
    try:
        for n in parse_int_list(args.actors, what="--actors"):
            with tempfile.TemporaryDirectory() as tmp:
                config = PrecomputeConfig(
                    space=args.space, dataset=args.dataset, metrics=tuple(args.metrics.split(",")), archs=args.archs,
                    out=str(Path(tmp) / "cache"), batch_size=args.batch_size, seed=0, data_dir=args.data_dir,
                    channels=args.channels, cells=args.cells, shard_size=args.shard_size, num_actors=n,
                    cpus_per_actor=args.cpus_per_actor, gpus_per_actor=args.gpus_per_actor, progress=False)
                start = time.perf_counter()
                report = run_precompute(config)
                wall = time.perf_counter() - start
            print(f"{report.num_actors:>6} {report.computed:>6} {wall:>8.1f} {report.compute_seconds:>10.1f} "
                  f"{report.rate:>8.2f}", flush=True)
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
