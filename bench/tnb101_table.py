"""RoBoT and baselines on the seven TransNAS-Bench-101-micro tasks (the paper's Table 3 setting).

Usage::

    nice -n 10 python bench/tnb101_table.py --data-dir ../shared/data --out docs/results/tnb101 --workers 2
    nice -n 19 python bench/tnb101_table.py --data-dir ../shared/data --out docs/results/tnb101 \
        --methods prenas swapnas@zen swapnas@synflow
    python bench/tnb101_table.py --data-dir ../shared/data --out docs/results/tnb101 --report-only

For every seed, task and method it runs one search with budget T and writes ``runs/<task>/<method>/seed<k>.json`` (best arch, its
validation value and rank among the 4,096 cells, RoBoT's T0, wall time). Finished runs are
skipped, so rerunning resumes. Order: the cheap baselines (rs, rea, reinforce) for all seeds
first, then RoBoT and WeakNAS seed by seed over all tasks, so an interrupted run still covers
every task with as many seeds as it had time for. Then it writes ``table.csv`` and ``table.md``: per task and method
the mean +- std of the validation rank of the best queried arch (lower is better), next to the
paper's RoBoT ranks.

RoBoT uses, per task, every published proxy with full coverage (zen; synflow and epe_nas for four
tasks; fisher for two) plus the encoder's params and flops (:mod:`robot_ray.metrics.tnb101_table`).

``--methods`` picks which methods run (finished runs of the others are left as they are and still
enter the table). ``prenas`` runs with its defaults (one-hot features, no metric). SWAP-NAS is
``swapnas@<metric>``: its fitness is that column of the task's metric table (the table has no
``swap``/``swap_reg``: no Taskonomy images here to compute them); a task without that metric
has no such run. SWAP-NAS queries one arch, whatever T is.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import multiprocessing
import signal
import sys
import time
from pathlib import Path

import pandas as pd

PAPER_ROBOT_RANK = {
    "class_scene": 2,
    "class_object": 1,
    "jigsaw": 17,
    "room_layout": 17,
    "segmentsemantic": 4,
    "normal": 8,
    "autoencoder": 66,
}
"""RoBoT's validation ranks in the paper's Table 3 (ICLR 2024)."""
METHODS = ("robot", "rs", "rea", "reinforce", "weaknas", "prenas", "swapnas@zen", "swapnas@synflow")
CHEAP = ("rs", "rea", "reinforce", "prenas", "swapnas@zen", "swapnas@synflow")
COMMAND = "nice -n 10 python bench/tnb101_table.py --data-dir ../shared/data --out docs/results/tnb101 --workers 2"
NEW_COMMAND = ("nice -n 19 python bench/tnb101_table.py --data-dir ../shared/data --out docs/results/tnb101 "
               "--methods prenas swapnas@zen swapnas@synflow")
"""What added the PRE-NAS and SWAP-NAS runs beside the others (one process, RoBoT's runs untouched)."""


def fitness_of(method: str) -> str | None:
    """The fitness metric of a ``swapnas@<metric>`` method, else None."""
    return method.split("@", 1)[1] if method.startswith("swapnas@") else None


def schedule(tasks: list[str], methods: list[str], seeds: int) -> list[tuple[int, str, str]]:
    """(seed, task, method) jobs: cheap methods for all seeds first, then the rest seed-major."""
    cheap = [(s, t, m) for s in range(seeds) for t in tasks for m in methods if m in CHEAP]
    rest = [(s, t, m) for s in range(seeds) for t in tasks for m in methods if m not in CHEAP]
    return cheap + rest


def run_one(benchmark, matrix, method: str, budget: int, seed: int) -> dict:
    """One search; the summary of its best queried arch."""
    from robot_ray.baselines import METHODS as BASELINES
    from robot_ray.runs.robot import robot_runner

    t0 = time.perf_counter()
    fitness = fitness_of(method)
    if method == "robot":
        result = robot_runner(benchmark, budget, seed, metrics=matrix)
    elif fitness is not None:
        result = BASELINES["swapnas"](benchmark, budget, seed, metrics=matrix, fitness_metric=fitness)
    else:
        result = BASELINES[method](benchmark, budget, seed, metrics=matrix)
    best = result.ledger.best()
    return {
        "task": benchmark.dataset,
        "method": method,
        "seed": seed,
        "budget": budget,
        "queries": result.ledger.spent,
        "best_arch_id": int(best.arch_id),
        "best_arch": best.arch,
        "best_value": float(best.value),
        "rank": benchmark.value_rank(best.arch_id),
        "t0": result.t0,
        "metrics": list(matrix.names) if method == "robot" else [fitness] if fitness else [],
        "seconds": round(time.perf_counter() - t0, 2),
        # best-so-far value after each query, for the best-value-vs-queries plot
        "curve": [float(r.best_value) for r in result.ledger.records],
    }


def run_path(out: Path, task: str, method: str, seed: int) -> Path:
    """Where one finished run is stored; its existence is what makes the bench resumable."""
    return out / "runs" / task / method / f"seed{seed}.json"


def atomic_json(path: Path, obj: dict) -> None:
    from robot_ray.io.atomic import atomic_write_bytes

    atomic_write_bytes(path, (json.dumps(obj, indent=1) + "\n").encode())


@functools.lru_cache(maxsize=None)
def task_inputs(data_dir: str | None, task: str):
    """(benchmark, metric matrix) of one task, loaded once per process."""
    from robot_ray.benchmarks.tnb101 import load
    from robot_ray.metrics.matrix import read_metric_table
    from robot_ray.metrics.tnb101_table import metric_table

    bench = load(data_dir, task)
    table = metric_table(data_dir, task)
    names = [c for c in table.columns if c not in ("arch_id", "arch")]
    return bench, read_metric_table(table, names, num_archs=bench.num_archs)


def run_job(data_dir: str | None, task: str, method: str, budget: int, seed: int) -> dict:
    """One (task, method, seed) run in whichever process executes it."""
    import torch

    torch.set_num_threads(1)  # shared CPUs: one thread per process avoids oversubscription
    logging.getLogger("ax").setLevel(logging.WARNING)
    bench, matrix = task_inputs(data_dir, task)
    return run_one(bench, matrix, method, budget, seed)


def run_all(args: argparse.Namespace) -> None:
    """Run every missing job, ``--workers`` at a time; each result is written as it finishes."""
    out = Path(args.out)
    planned = schedule(args.tasks, args.methods, args.seeds)
    # swapnas@<metric> only where the task's metric table has that metric
    planned = [(s, t, m) for s, t, m in planned
               if fitness_of(m) is None or fitness_of(m) in task_inputs(args.data_dir, t)[1].names]
    missing = [(s, t, m) for s, t, m in planned if not run_path(out, t, m, s).exists()]
    # runs stored before runs kept their curve: rerun them (deterministic) after the missing ones
    curveless = [(s, t, m) for s, t, m in planned
                 if (s, t, m) not in missing and "curve" not in json.loads(run_path(out, t, m, s).read_text())]
    pending = missing + curveless
    print(f"{len(missing)} runs to do and {len(curveless)} to rerun for their curve, "
          f"with {args.workers} worker(s)", flush=True)

    def finish(row: dict) -> None:
        path = run_path(out, row["task"], row["method"], row["seed"])
        if path.exists():  # a rerun for the curve must reproduce the stored result
            old = json.loads(path.read_text())
            same = all(old[k] == row[k] for k in ("best_arch_id", "rank", "queries", "t0"))
            if not same:
                print(f"NOT REPRODUCED, kept the stored run: {path} stored "
                      f"{ {k: old[k] for k in ('best_arch_id', 'rank', 't0')} }, rerun "
                      f"{ {k: row[k] for k in ('best_arch_id', 'rank', 't0')} }", flush=True)
                return
            row = {**old, "curve": row["curve"]}  # keep the stored wall time
        atomic_json(path, row)
        print(f"{row['task']:16s} {row['method']:9s} seed {row['seed']}: rank {row['rank']:5d} ({row['seconds']:.1f} s)", flush=True)
        report(out)

    if args.workers <= 1:
        for seed, task, method in pending:
            finish(run_job(args.data_dir, task, method, args.budget, seed))
        return
    # SIGTERM (kill, pkill) exits through the pool's context manager, which terminates the
    # workers; the default handler would leave them running, orphaned, until their job ends.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    jobs = [(args.data_dir, task, method, args.budget, seed) for seed, task, method in pending]
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        for row in pool.imap_unordered(_run_job_args, jobs):
            finish(row)


def _run_job_args(job: tuple) -> dict:
    return run_job(*job)


def report(out: Path) -> pd.DataFrame | None:
    """Aggregate finished runs into table.csv / table.md (mean +- std rank per task and method)."""
    rows = [json.loads(p.read_text()) for p in sorted((out / "runs").glob("*/*/seed*.json"))]
    if not rows:
        return None
    runs = pd.DataFrame(rows)
    agg = (
        runs.groupby(["task", "method"])
        .agg(seeds=("seed", "nunique"), mean_rank=("rank", "mean"), std_rank=("rank", "std"),
             median_rank=("rank", "median"), mean_value=("best_value", "mean"), mean_seconds=("seconds", "mean"))
        .reset_index()
    )  # fmt: skip
    agg.to_csv(out / "table.csv", index=False)
    tasks = [t for t in PAPER_ROBOT_RANK if t in set(agg["task"])]
    methods = [m for m in METHODS if m in set(agg["method"])]
    lines = [
        f"Command: `{COMMAND}` (resumable; `--report-only` rebuilds this table from `runs/`).",
        "",
        "Validation rank (1 = best of 4,096) of the best queried arch, mean +- std over seeds "
        "(number of seeds in brackets). Lower is better.",
        "",
        "| task | paper RoBoT | " + " | ".join(methods) + " | RoBoT metrics |",
        "|---|---|" + "---|" * len(methods) + "---|",
    ]
    for task in tasks:
        cells = []
        for m in methods:
            r = agg[(agg["task"] == task) & (agg["method"] == m)]
            if r.empty:
                cells.append("-")
            else:
                r = r.iloc[0]
                spread = "" if int(r["seeds"]) < 2 else f" +- {r['std_rank']:.1f}"
                cells.append(f"{r['mean_rank']:.1f}{spread} [{int(r['seeds'])}]")
        used = runs[(runs["task"] == task) & (runs["method"] == "robot")]["metrics"]
        names = ", ".join(used.iloc[0]) if len(used) else "-"
        lines.append(f"| {task} | {PAPER_ROBOT_RANK[task]} | " + " | ".join(cells) + f" | {names} |")
    if any(fitness_of(m) for m in methods):
        lines += ["", "`swapnas@<metric>`: SWAP-NAS with that published metric as its fitness (no swap/swap_reg "
                  "for TNB101 here); it queries 1 arch, the others T. Its runs: "
                  f"`{NEW_COMMAND}`; `-`: the task has no such metric."]
    (out / "table.md").write_text("\n".join(lines) + "\n")
    plot_curves(runs, tasks, methods, out / "curves.png")
    return agg


def plot_curves(runs: pd.DataFrame, tasks: list[str], methods: list[str], path: Path) -> None:
    """Best value so far vs queries, mean over the seeds that kept their curve, one panel per task."""
    if "curve" not in runs:
        return
    import numpy as np

    from robot_ray.report.plots import pyplot, save_figure

    fig, axes = pyplot().subplots(2, 4, figsize=(16, 7))
    for ax, task in zip(axes.flat, tasks):
        for m in methods:
            stored = [c for c in runs[(runs["task"] == task) & (runs["method"] == m)]["curve"] if isinstance(c, list)]
            # a run that stopped short of the budget cannot be averaged query by query: left out
            curves = [c for c in stored if len(c) == max(map(len, stored))]
            if not curves:
                continue
            mean = np.mean(np.array(curves), axis=0)
            if len(mean) == 1:  # SWAP-NAS: one query, its answer drawn flat over the budget
                budget = max((len(c) for c in runs[runs["task"] == task]["curve"] if isinstance(c, list)), default=1)
                ax.plot([1, budget], [mean[0], mean[0]], linestyle="--", label=f"{m} (1 query) [{len(curves)}]")
                continue
            ax.plot(np.arange(1, len(mean) + 1), mean, label=f"{m} [{len(curves)}]")
        ax.set_title(task)
        ax.set_xlabel("queries")
        ax.set_ylabel("best val_metric so far (mean)")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(tasks):]:
        ax.axis("off")
    fig.suptitle("TransNAS-Bench-101-micro: best validation value vs queries (seeds in brackets)")
    save_figure(fig, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="shared data dir (else $ROBOT_RAY_DATA)")
    parser.add_argument("--out", default="docs/results/tnb101")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--tasks", nargs="+", default=list(PAPER_ROBOT_RANK))
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--workers", type=int, default=1, help="runs in parallel, one process (one torch thread) each")
    parser.add_argument("--report-only", action="store_true", help="only rebuild table.csv / table.md")
    args = parser.parse_args()
    if args.report_only:
        agg = report(Path(args.out))
        print("no finished runs" if agg is None else (Path(args.out) / "table.md").read_text())
        return
    from robot_ray.benchmarks.tnb101 import canonical_task

    args.tasks = [canonical_task(t) for t in args.tasks]
    run_all(args)
    print((Path(args.out) / "table.md").read_text())


if __name__ == "__main__":
    main()
