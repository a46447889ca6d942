"""Scale bench for RoBoT scoring on DARTS-sized pools: per-proposal time and peak memory.

For each pool size N (rows) x M metric columns of synthetic float32 values in [0, 1], in a fresh
subprocess (so peak RSS belongs to that size alone), it times

* one BO proposal: ``scores`` (X @ w, float32) + ``top1`` (argmax), median over ``--repeats`` w;
* the greedy stage: the first ``--greedy`` rows of :func:`robot_ray.search.scoring.iter_ranked`;
* a full ranking of the pool (:func:`robot_ray.search.scoring.ranking`, argsort of N scores);

and reports peak RSS (``resource.getrusage``) and the tracemalloc peak of numpy allocations
during scoring. Run (1 thread, as on a shared machine)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python bench/darts_scale.py --sizes 1e5,1e6,1e7 --layout F,C

Figures are recorded in docs/darts.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def run_one(n: int, m: int, repeats: int, greedy: int, full: bool, seed: int, layout: str = "F") -> dict:
    import numpy as np

    from robot_ray.search.scoring import iter_ranked, ranking, scores, top1

    rng = np.random.default_rng(seed)
    # float32 straight into X, never a float64 copy of the pool. Layout "F" (column-major: each
    # metric contiguous) lets BLAS stream X once per proposal; "C" is row-major.
    X = np.empty((n, m), dtype=np.float32, order=layout)
    step = 1 << 20
    for i in range(0, n, step):
        if layout == "C":
            rng.random(out=X[i : i + step], dtype=np.float32)
    if layout == "F":
        for j in range(m):
            rng.random(out=X[:, j], dtype=np.float32)
    base_rss = _rss_mb()
    ws = rng.uniform(-1, 1, size=(repeats, m)).astype(np.float32)

    tracemalloc.start()
    times = []
    for w in ws:
        t = time.perf_counter()
        best = top1(X, w)
        times.append(time.perf_counter() - t)
    _, score_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # check top1 agrees with a direct argmax of the scores
    assert best == int(np.argmax(scores(X, ws[-1])))

    t = time.perf_counter()
    it = iter_ranked(X, ws[0])
    prefix = [next(it) for _ in range(min(greedy, n))]
    greedy_s = time.perf_counter() - t
    full_s = None
    if full:
        t = time.perf_counter()
        order = ranking(X, ws[0])
        full_s = time.perf_counter() - t
        assert prefix == order[: len(prefix)].tolist()
    return {
        "rows": n,
        "layout": layout,
        "metrics": m,
        "matrix_mb": round(X.nbytes / 2**20, 1),
        "proposal_ms_median": round(1e3 * float(np.median(times)), 2),
        "proposal_ms_max": round(1e3 * float(np.max(times)), 2),
        "greedy_first_k": len(prefix),
        "greedy_s": round(greedy_s, 3),
        "full_ranking_s": None if full_s is None else round(full_s, 3),
        "scoring_tracemalloc_peak_mb": round(score_peak / 2**20, 1),
        "rss_after_matrix_mb": round(base_rss, 1),
        "peak_rss_mb": round(_rss_mb(), 1),
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="1e5,1e6,1e7", help="comma-separated pool sizes")
    p.add_argument("--metrics", type=int, default=11)
    p.add_argument("--repeats", type=int, default=20, help="weight vectors per size")
    p.add_argument("--greedy", type=int, default=1000, help="rows taken from the greedy ranking")
    p.add_argument("--no-full", action="store_true", help="skip the full argsort ranking")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--layout", default="F", help="memory order of X: F (column-major) or C (row-major); comma list allowed")
    p.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one is not None:
        print(json.dumps(run_one(args.one, args.metrics, args.repeats, args.greedy, not args.no_full, args.seed,
                                 args.layout)))
        return
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
           "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1")}
    for layout in args.layout.split(","):
        for size in args.sizes.split(","):
            n = int(float(size))
            cmd = [sys.executable, __file__, "--one", str(n), "--metrics", str(args.metrics), "--repeats",
                   str(args.repeats), "--greedy", str(args.greedy), "--seed", str(args.seed), "--layout", layout]
            if args.no_full:
                cmd.append("--no-full")
            out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
            print(out.strip(), flush=True)


if __name__ == "__main__":
    main()
