"""Time params + multiply-adds of the TNB101-micro encoder for all 4,096 cells.

Usage: ``python bench/tnb101_params_flops.py [--data-dir DIR] [--direct N]``

Prints the wall time of :func:`robot_ray.metrics.tnb101_table.params_flops` over the official
cells (19 meta-device builds, then sums of per-edge costs), and with ``--direct N`` the time of
whole-network meta-device counting for N cells, extrapolated to 4,096 (and checked equal).
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="shared data dir (else $ROBOT_RAY_DATA)")
    parser.add_argument("--direct", type=int, default=20, help="cells counted by whole-network meta passes")
    args = parser.parse_args()

    import torch

    from robot_ray.benchmarks.tnb101 import official_arch_strings
    from robot_ray.metrics.tnb101_table import params_flops
    from robot_ray.networks.tnb101 import count_cell

    torch.set_num_threads(1)
    archs = official_arch_strings(str(args.data_dir) if args.data_dir else _default_dir())
    t0 = time.perf_counter()
    params, macs = params_flops(archs)
    dt = time.perf_counter() - t0
    print(f"params+flops for {len(archs)} cells (edge sums): {dt:.2f} s")
    print(f"  params {params.min():,}..{params.max():,}; MACs {macs.min():,}..{macs.max():,}")

    if args.direct > 0:
        idx = np.random.default_rng(0).choice(len(archs), size=args.direct, replace=False)
        t0 = time.perf_counter()
        for i in idx:
            assert count_cell(archs[i]) == (params[i], macs[i]), archs[i]
        dt = time.perf_counter() - t0
        print(
            f"whole-network meta counting: {dt / args.direct * 1e3:.0f} ms/cell "
            f"(~{dt / args.direct * len(archs):.0f} s for {len(archs)}); equal to edge sums on {args.direct} cells"
        )


def _default_dir() -> str:
    from robot_ray.data import resolve_data_dir

    return str(resolve_data_dir(None))


if __name__ == "__main__":
    main()
