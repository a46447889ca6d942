"""PRE-NAS live on NAS-Bench-201: children inheriting their parent's weights vs trained from scratch.

Each PRE-NAS query trains the NB201 network of the queried cell (``robot_ray.train.LiveObjective``,
the npz CIFAR-10 subset of the data directory), both modes at the same budget: T distinct cells
per seed, the same epochs per trained cell. ``inherit``: every child (an op-only mutant of a
trained parent) starts from its parent's kept weights (``LiveObjective(weights_dir=...)``,
``prenas.run(inherit=True)``); ``scratch``: every cell starts from a fresh initialisation. NB201's
table is the ground truth the live values never see: the returned cell's 200-epoch CIFAR-10 test
accuracy, the best of the queried cells, and Kendall's tau between the live validation accuracy
and the table's test accuracy over the queried cells (how well the fidelity ranks cells).

Runs without Ray (``TrainedPool``, the baseline's own loop), so it also runs on a GPU machine
that has PyTorch but no Ray. Figures: JSON per (mode, seed) under ``--out``, then ``--summarise``
prints the table and draws ``best_so_far.png``.

Examples::

    python bench/prenas_inheritance.py --data-dir $ROBOT_RAY_DATA --mode inherit --seeds 0-2 --out OUT
    python bench/prenas_inheritance.py --data-dir $ROBOT_RAY_DATA --mode scratch --seeds 0-2 --out OUT
    python bench/prenas_inheritance.py --summarise --out OUT
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path

import numpy as np


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default=None)
    p.add_argument("--mode", choices=("inherit", "scratch"), default="inherit")
    p.add_argument("--seeds", default="0-2", help="a range 0-2 or a list 0,3")
    p.add_argument("--budget", type=int, default=20)
    p.add_argument("--epochs", type=int, default=4, help="epochs of every trained cell (both modes)")
    p.add_argument("--channels", type=int, default=16)
    p.add_argument("--cells", type=int, default=5)
    p.add_argument("--train-subset", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--device", default=None)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--init-samples", type=int, default=10)
    p.add_argument("--out", required=True)
    p.add_argument("--summarise", action="store_true", help="only read the JSONs under --out and summarise")
    return p.parse_args(argv)


def seeds_of(spec: str) -> list[int]:
    if "-" in spec:
        a, b = spec.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(s) for s in spec.split(",")]


def run_one(args: argparse.Namespace, seed: int) -> dict:
    from scipy.stats import kendalltau

    from robot_ray.baselines import prenas
    from robot_ray.benchmarks import get_benchmark
    from robot_ray.benchmarks.pool import TrainedPool
    from robot_ray.data import resolve_data_dir
    from robot_ray.train import LiveObjective

    data_dir = str(resolve_data_dir(args.data_dir))
    bench = get_benchmark("nb201", "cifar10", data_dir)
    with tempfile.TemporaryDirectory(prefix="prenas-weights-") as weights:
        objective = LiveObjective(
            "nb201", bench, "cifar10", data_dir=data_dir, seed=0, device=args.device, epochs=args.epochs,
            batch_size=args.batch_size, train_subset=args.train_subset,
            size={"channels": args.channels, "cells": args.cells},
            weights_dir=weights if args.mode == "inherit" else None,
        )
        fractions: list[float] = []
        query_arch = objective.query_arch

        def recording(arch, **context):
            answer = query_arch(arch, **context)
            fractions.append(objective.last_info["inherited_fraction"])
            return answer

        objective.query_arch = recording
        start = time.perf_counter()
        result = prenas.run(TrainedPool(bench, objective), args.budget, seed, inherit=args.mode == "inherit",
                            init_samples=args.init_samples)
        seconds = time.perf_counter() - start
    ids = [r.arch_id for r in result.ledger.records]
    live = np.array([r.value for r in result.ledger.records])
    truth = bench.test_values[np.array(ids)]
    best = result.ledger.best()
    tau = kendalltau(live, truth).statistic
    return {
        "mode": args.mode, "seed": seed, "budget": args.budget, "epochs": args.epochs,
        "size": {"channels": args.channels, "cells": args.cells}, "train_subset": args.train_subset,
        "device": objective.last_info.get("device"),
        "seconds": seconds, "returned_arch_id": int(best.arch_id), "returned_arch": best.arch,
        "returned_live_val": float(best.value), "returned_test_200ep": float(bench.test_values[best.arch_id]),
        "best_queried_test_200ep": float(truth.max()),
        "best_so_far_test_200ep": [float(bench.test_values[max(ids[:k + 1], key=lambda i: live[ids.index(i)])])
                                   for k in range(len(ids))],
        "kendall_tau_live_vs_table": None if math.isnan(tau) else float(tau),
        "inherited_fraction": fractions, "live_val": live.tolist(), "table_test_200ep": truth.tolist(),
        "arch_ids": ids, "extra": {k: v for k, v in result.extra.items() if isinstance(v, (int, float, str))},
    }


def summarise(out: Path) -> str:
    rows = [json.loads(p.read_text()) for p in sorted(out.glob("*_seed*.json"))]
    lines = ["| mode | seeds | returned cell: NB201 test % (200 ep) | best queried cell: test % | "
             "Kendall tau live vs table | inherited share of params (children) | wall time per seed (s) |",
             "|---|---|---|---|---|---|---|"]
    for mode in ("scratch", "inherit"):
        got = [r for r in rows if r["mode"] == mode]
        if not got:
            continue
        ret = np.array([r["returned_test_200ep"] for r in got])
        bq = np.array([r["best_queried_test_200ep"] for r in got])
        tau = np.array([r["kendall_tau_live_vs_table"] for r in got], dtype=float)
        frac = [f for r in got for f in r["inherited_fraction"] if f > 0]
        secs = np.array([r["seconds"] for r in got])
        lines.append(f"| {mode} | {', '.join(str(r['seed']) for r in got)} | {ret.mean():.2f} ± {ret.std():.2f} | "
                     f"{bq.mean():.2f} ± {bq.std():.2f} | {np.nanmean(tau):.2f} | "
                     f"{np.mean(frac) if frac else 0:.2f} ({len(frac)} children) | {secs.mean():.0f} |")
    pairs = {(r["mode"], r["seed"]): r["returned_test_200ep"] for r in rows}
    common = sorted(s for m, s in pairs if m == "inherit" and ("scratch", s) in pairs)
    if len(common) >= 2:
        from scipy.stats import wilcoxon

        diff = np.array([pairs["inherit", s] - pairs["scratch", s] for s in common])
        p = wilcoxon(diff).pvalue if np.any(diff) else 1.0
        lines.append(f"\nPaired by seed ({len(common)} seeds), inherit - scratch on the returned cell: "
                     f"{diff.mean():+.2f} points, better in {(diff > 0).sum()}, worse in {(diff < 0).sum()}; "
                     f"Wilcoxon signed-rank p = {p:.2f}.")
    table = "\n".join(lines)
    (out / "summary.md").write_text(table + "\n")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        for mode, colour in (("scratch", "tab:blue"), ("inherit", "tab:orange")):
            curves = np.array([r["best_so_far_test_200ep"] for r in rows if r["mode"] == mode])
            if len(curves):
                x = np.arange(1, curves.shape[1] + 1)
                ax.plot(x, curves.mean(axis=0), color=colour, label=f"{mode} ({len(curves)} seeds)")
                ax.fill_between(x, curves.min(axis=0), curves.max(axis=0), color=colour, alpha=0.15)
        ax.set_xlabel("cells trained (queries)")
        ax.set_ylabel("NB201 test acc. of the best-so-far cell (%)")
        ax.set_title("PRE-NAS live on NB201: weight inheritance vs scratch")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "best_so_far.png", dpi=120)
    except ImportError:
        pass
    return table


def main(argv=None) -> None:
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if not args.summarise:
        if args.threads:
            import torch

            torch.set_num_threads(args.threads)
        for seed in seeds_of(args.seeds):
            row = run_one(args, seed)
            (out / f"{args.mode}_seed{seed}.json").write_text(json.dumps(row, indent=1))
            print(f"{args.mode} seed {seed}: returned {row['returned_test_200ep']:.2f} % (best queried "
                  f"{row['best_queried_test_200ep']:.2f}), tau {row['kendall_tau_live_vs_table']}, "
                  f"{row['seconds']:.0f} s", flush=True)
    print(summarise(out))


if __name__ == "__main__":
    main()
