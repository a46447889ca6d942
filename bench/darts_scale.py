"""Scale bench for RoBoT scoring on DARTS-sized pools: per-proposal time and peak memory.

For each pool size N (rows) x M metric columns of synthetic float32 values in [0, 1], in a fresh
subprocess (so peak RSS belongs to that size alone), it times

* one BO proposal: ``scores`` (X @ w, float32) + ``top1`` (argmax), median over ``--repeats`` w;
* the greedy stage: the first ``--greedy`` rows of :func:`robot_ray.algorithm.scoring.iter_ranked`;
* a full ranking of the pool (:func:`robot_ray.algorithm.scoring.ranking`, argsort of N scores);

and reports peak RSS (``resource.getrusage``) and the tracemalloc peak of numpy allocations
during scoring and during the greedy prefix. Run (1 thread, as on a shared machine)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python bench/darts_scale.py --sizes 1e5,1e6,1e7 --layout F,C

``--cache-read N`` instead measures what ``robot-ray search --cache`` does first: reading a
precompute cache of N rows into the normalised metric matrix. It writes a synthetic cache
(``--metrics`` float64 columns with a few NaN / sentinel / non-positive values, arch strings of a
real genotype's length, 418 characters, ``--shard-rows`` rows per shard) into ``--cache-dir``
(kept and reused), then reads it in a fresh process per reader:

* ``table``: the former path, ``read_metric_table(read_cache_table(CACHE), metrics)`` (one
  DataFrame of the whole pool, arch strings included, then float64 columns);
* ``shards``: ``read_cache_matrix(CACHE, metrics)``, shard by shard into one float32 matrix;

and prints the RSS before the read, the peak RSS during it (the high-water mark is reset after
the imports and a warm-up read of one shard, ``/proc/self/clear_refs``), their difference, and
the wall time::

    python bench/darts_scale.py --cache-read 1e6 --readers table,shards --cache-dir /tmp/darts_cache_1e6

Figures are recorded in docs/darts.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _status_mb(key: str) -> float | None:
    """``VmRSS`` / ``VmHWM`` of this process from /proc (None where there is no /proc)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset this process's peak RSS (VmHWM) to its current RSS (Linux: ``clear_refs`` 5)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def run_one(n: int, m: int, repeats: int, greedy: int, full: bool, seed: int, layout: str = "F") -> dict:
    import numpy as np

    from robot_ray.algorithm.scoring import iter_ranked, ranking, scores, top1

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

    tracemalloc.start()
    t = time.perf_counter()
    it = iter_ranked(X, ws[0])
    prefix = [next(it) for _ in range(min(greedy, n))]
    greedy_s = time.perf_counter() - t
    _, greedy_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del it
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
        "greedy_tracemalloc_peak_mb": round(greedy_peak / 2**20, 1),
        "rss_after_matrix_mb": round(base_rss, 1),
        "peak_rss_mb": round(_rss_mb(), 1),
    }


CACHE_METRICS = ("synflow", "snip", "grad_norm", "grasp", "fisher", "jacob_cov", "nwot", "zen", "swap", "params", "flops")


def write_cache(directory: str, n: int, m: int, shard_rows: int, seed: int) -> dict:
    """A complete synthetic cache of ``n`` rows (skipped when ``directory`` already holds one of ``n``)."""
    import numpy as np
    import pandas as pd

    from robot_ray.cache import CacheSettings, Manifest, write_shard
    from robot_ray.metrics.catalog import revisions_of
    from robot_ray.spaces import darts

    path = Path(directory)
    try:
        manifest = Manifest.load(path)
        if sum(len(s) for s in manifest.shards) == n and not manifest.incomplete():
            return {"cache": str(path), "rows": n, "written": False}
    except Exception:
        pass
    path.mkdir(parents=True, exist_ok=True)
    names = CACHE_METRICS[:m] if m <= len(CACHE_METRICS) else tuple(f"m{j}" for j in range(m))
    settings = CacheSettings(space="darts", dataset="cifar10", metrics=names, batch_size=64, seed=0,
                             size={"channels": 16, "layers": 8}, ids="pool",
                             revisions=revisions_of(names))
    manifest = Manifest(settings)
    manifest.plan(np.arange(n, dtype=np.int64), shard_rows)
    rng = np.random.default_rng(seed)
    base = darts.strings(darts.sample_codes(np.random.default_rng(seed), 64))  # 418 characters each
    t = time.perf_counter()
    for shard in manifest.shards:
        k = len(shard.ids)
        # distinct strings of a real genotype's length (418): a real genotype with the row in place of its tail
        archs = [base[i % 64][:-12] + f"{i:012d}" for i in shard.ids.tolist()]
        frame = pd.DataFrame({"arch": archs})
        for j, name in enumerate(names):
            col = rng.standard_normal(k) * 10.0 ** (j % 5)
            if name == "synflow":
                col = 10.0 ** rng.uniform(-5, 60, k)
                col[rng.random(k) < 1e-3] = 0.0
            col[rng.random(k) < 1e-3] = np.nan
            col[rng.random(k) < 1e-4] = -1e8
            frame[name] = col
        write_shard(path, settings, shard, frame)
        shard.complete = True
    manifest.save(path)
    return {"cache": str(path), "rows": n, "written": True, "write_s": round(time.perf_counter() - t, 1),
            "disk_mb": round(sum(f.stat().st_size for f in path.iterdir()) / 2**20, 1)}


def read_one(directory: str, reader: str, m: int, batch_rows: int) -> dict:
    from robot_ray.cache import Manifest, read_cache_matrix, read_cache_table
    from robot_ray.metrics.matrix import read_metric_table

    names = list(Manifest.load(directory).settings.metrics)[:m]
    import pyarrow.parquet as pq

    # warm-up outside the measurement: the first Parquet read loads code, thread pools and
    # allocator arenas (about 70 MB here) whichever reader runs
    first = sorted(Path(directory).glob("shard-*.parquet"))[0]
    pq.read_table(first).to_pandas()
    # peak RSS of the read alone: reset the high-water mark after the imports and the warm-up
    reset = _reset_peak()
    base_rss = _status_mb("VmRSS") if reset else _rss_mb()
    t = time.perf_counter()
    if reader == "table":
        matrix = read_metric_table(read_cache_table(directory), names)
    elif reader == "shards":
        matrix = read_cache_matrix(directory, names, batch_rows=batch_rows)
    else:
        raise SystemExit(f"unknown reader {reader!r}: table or shards")
    seconds = time.perf_counter() - t
    peak = _status_mb("VmHWM") if reset else _rss_mb()
    return {
        "reader": reader,
        "rows": matrix.num_archs,
        "metrics": len(names),
        "matrix_mb": round(matrix.values.nbytes / 2**20, 1),
        "fortran_order": bool(matrix.values.flags.f_contiguous),
        "read_s": round(seconds, 2),
        "rss_before_read_mb": round(base_rss, 1),
        "peak_rss_during_read_mb": round(peak, 1),
        "read_peak_above_baseline_mb": round(peak - base_rss, 1),
        "peak_reset": reset,
        "checksum": float(matrix.values.astype("float64").sum()),
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
    p.add_argument("--cache-read", default=None, metavar="N", help="measure reading an N-row cache instead")
    p.add_argument("--readers", default="table,shards", help="cache readers: table (former), shards (search's)")
    p.add_argument("--cache-dir", default=None, help="where the synthetic cache is written (kept, reused)")
    p.add_argument("--shard-rows", type=int, default=1 << 16, help="rows per shard of the synthetic cache")
    p.add_argument("--batch-rows", type=int, default=1 << 16, help="rows per batch of the shard-by-shard reader")
    p.add_argument("--read-one", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.read_one is not None:
        print(json.dumps(read_one(args.read_one, args.readers, args.metrics, args.batch_rows)))
        return
    if args.cache_read is not None:
        n = int(float(args.cache_read))
        directory = args.cache_dir or os.path.join(tempfile.gettempdir(), f"robot_ray_darts_cache_{n}")
        print(json.dumps(write_cache(directory, n, args.metrics, args.shard_rows, args.seed)), flush=True)
        for reader in args.readers.split(","):
            cmd = [sys.executable, __file__, "--read-one", directory, "--readers", reader,
                   "--metrics", str(args.metrics), "--batch-rows", str(args.batch_rows)]
            print(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip(), flush=True)
        return
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
