"""make_report and ``robot-ray report`` on small result trees written from real NB201 runs."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from robot_ray.benchmarks import get_benchmark
from robot_ray.errors import RobotRayError
from robot_ray.report import find_results, make_report
from robot_ray.baselines import METHODS
from robot_ray.algorithm.ledger import QueryLedger
from robot_ray.algorithm.ledger import RunResult
from robot_ray.runs.results import write_results

T = 8
SEEDS = (0, 1, 2)
METRICS = ("synflow", "nwot")


def _fake_robot(bench, seed) -> RunResult:
    """A RoBoT-shaped run: weights on every query, a T0 and best weights (no BO needed here)."""
    rng = np.random.default_rng(seed)
    ledger = QueryLedger(bench, T)
    for i, arch_id in enumerate(rng.choice(bench.num_archs, size=T, replace=False)):
        w = rng.uniform(-1, 1, size=len(METRICS))
        ledger.record(int(arch_id), bench.query(int(arch_id)), stage="explore" if i < 3 else "exploit", weights=w)
    return RunResult(seed, ledger, t0=3, best_weights={m: float(v) for m, v in zip(METRICS, rng.uniform(-1, 1, 2))})


@pytest.fixture(scope="module")
def tree(tmp_path_factory, data_dir):
    root = tmp_path_factory.mktemp("results")
    for dataset in ("cifar10", "cifar100"):
        bench = get_benchmark("nb201", dataset, data_dir)
        meta = dict(space="nb201", dataset=dataset, budget=T, test_name=bench.test_name)
        for method in ("rs", "rea"):
            runs = [METHODS[method](bench, T, s) for s in SEEDS]
            write_results(root / "nb201" / dataset / method, runs, method=method, **meta)
        for metric, top in (("synflow", 0), ("nwot", 100)):  # two fake single-metric rankings
            runs = []
            for s in SEEDS:
                ledger = QueryLedger(bench, T)
                for arch_id in np.argsort(-bench.test_values)[top : top + T]:
                    ledger.query(int(arch_id), stage="single_metric")
                runs.append(RunResult(s, ledger))
            write_results(root / "nb201" / dataset / f"single_metric-{metric}", runs, method=f"single_metric-{metric}", **meta)
        write_results(root / "robot_runs" / dataset, [_fake_robot(bench, s) for s in SEEDS], method="robot", metrics=list(METRICS), **meta)
    return root


def test_table_and_pngs(tree, tmp_path):
    out = tmp_path / "report"
    written = make_report([tree], out, title="demo")
    names = {p.name for p in written}
    assert {"table.md", "table.csv", "curves_nb201_cifar10_T8.png", "curves_nb201_cifar100_T8.png",
            "robot_nb201_cifar10_T8.png", "robot_nb201_cifar100_T8.png"} <= names
    for p in written:
        assert p.stat().st_size > 0
        if p.suffix == ".png":
            assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    csv = pd.read_csv(out / "table.csv")
    rs = csv[(csv["method"] == "rs") & (csv["dataset"] == "cifar10")].iloc[0]
    assert rs["seeds"] == 3 and rs["budget"] == T and np.isnan(rs["mean_t0"])
    assert csv[csv["method"] == "robot"]["mean_t0"].tolist() == [3.0, 3.0]
    best = csv[csv["method"].str.startswith("single_metric (best")]
    assert (best["method"] == "single_metric (best: synflow)").all()
    md = (out / "table.md").read_text()
    assert md.startswith("# demo") and "| rs |" in md and "±" in md and "mean T0" in md
    assert md.index("| rs |") < md.index("| rea |") < md.index("| robot |")


def test_report_cli_and_errors(tree, tmp_path):
    from robot_ray.cli import main

    result = CliRunner().invoke(main, ["report", str(tree / "nb201"), "--to", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r" / "table.md").exists() and not (tmp_path / "r" / "robot_nb201_cifar10_T8.png").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(main, ["report", str(empty)])
    assert result.exit_code == 2 and "no summary.json" in result.output
    twin = tmp_path / "twin"
    shutil.copytree(tree / "nb201" / "cifar10" / "rs", twin / "rs")
    with pytest.raises(RobotRayError, match="both hold rs"):
        find_results([tree, twin])


def test_curve_stats_one_seed_has_zero_spread_and_no_warning(tree, recwarn):
    """A single-seed run (the embedded demo's) gets a zero band, not numpy's ddof warning."""
    from dataclasses import replace

    from robot_ray.report.plots import curve_stats

    full = next(r for r in find_results([tree]) if r.method == "rs" and r.dataset == "cifar10")
    one = replace(full, trajectory=full.trajectory[full.trajectory["seed"] == SEEDS[0]])
    x, mean, sem = curve_stats(one)
    assert x.tolist() == list(range(1, T + 1)) and np.isfinite(mean).all()
    assert (sem == 0).all() and not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    assert (curve_stats(full)[2][1:] > 0).any()  # three seeds: a real standard error
