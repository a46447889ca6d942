"""Search overhead: the paper's loop, robot-ray's plain loop and its Ray path, as whole commands.

For each NB201 dataset, one run on the same machine times three commands end to end (Python
start, imports, data loading, search, results; the Ray path also starts and stops its local Ray):

* ``python bench/paper_loop.py``: the authors' algorithm (bayes_opt GP-UCB, then greedy);
* ``robot-ray search --no-ray``: robot-ray's searchers in a plain loop;
* ``robot-ray search``: the Ray path (one Tune trial per seed on a table).

and prints the wall times, the ratios to the paper's loop and the mean test accuracies side by
side. ``--engines gp,ax`` adds the Ax engine's plain loop. Needs the optional bench dependency
``bayesian-optimization`` (``pip install -e ".[bench]"``).

    python bench/search_overhead.py --data-dir ../shared/data --out docs/results/search_overhead
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATASETS = ("cifar10", "cifar100", "ImageNet16-120")


def timed(cmd: list[str]) -> tuple[float, str]:
    """Wall seconds of one command and its stdout; a failure stops the benchmark with its stderr."""
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("ROBOT_RAY_DATA"))
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--metrics", default="synflow,snip,nwot,zen")
    parser.add_argument("--seeds", default="10-19")
    parser.add_argument("--budget", type=int, default=20)
    parser.add_argument("--engines", default="gp", help="robot-ray BO engines to time in the plain loop (gp, ax)")
    parser.add_argument("--out", default=None, help="write the figures as JSON here")
    args = parser.parse_args()
    if not args.data_dir:
        sys.exit("give --data-dir or set $ROBOT_RAY_DATA")

    common = ["--data-dir", args.data_dir, "--metrics", args.metrics, "--seeds", args.seeds]
    rows = []
    for dataset in args.datasets.split(","):
        row: dict = {"dataset": dataset}
        seconds, stdout = timed([sys.executable, str(HERE / "paper_loop.py"), *common, "--dataset", dataset,
                                 "--budget", str(args.budget)])
        row["paper"] = {"seconds": seconds, "test": json.loads(stdout.strip().splitlines()[-1])["mean_test_value"]}
        modes = [(f"plain_{e}", ["--no-ray", "--engine", e]) for e in args.engines.split(",")] + [("ray", [])]
        for name, flags in modes:
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "run"
                seconds, _ = timed([sys.executable, "-m", "robot_ray", "search", *common, "--dataset", dataset,
                                    "--budget", str(args.budget), "--out", str(out), "--quiet", *flags])
                summary = json.loads((out / "summary.json").read_text())
            row[name] = {"seconds": seconds, "test": summary["mean_test_value"]}
        rows.append(row)
        print(json.dumps(row), flush=True)

    names = [k for k in rows[0] if k != "dataset"]
    print()
    print("| dataset | " + " | ".join(f"{n} (s)" for n in names) + " | "
          + " | ".join(f"{n} / paper" for n in names[1:]) + " | " + " | ".join(f"{n} test acc" for n in names) + " |")
    print("|---" * (1 + 3 * len(names) - 1) + "|")
    for row in rows:
        paper = row["paper"]["seconds"]
        print(f"| {row['dataset']} | " + " | ".join(f"{row[n]['seconds']:.1f}" for n in names) + " | "
              + " | ".join(f"{row[n]['seconds'] / paper:.2f}" for n in names[1:]) + " | "
              + " | ".join(f"{row[n]['test']:.2f}" for n in names) + " |")
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        meta = {"command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]), "cpus": os.cpu_count(), "rows": rows}
        (Path(args.out) / "search_overhead.json").write_text(json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    main()
