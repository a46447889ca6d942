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


@pytest.fixture(scope="module")
def ranked_tree(tmp_path_factory, data_dir):
    """rs on TNB101 normal (valid_ssim) and autoencoder, and on NB301 (surrogate accuracy)."""
    root = tmp_path_factory.mktemp("ranked")
    for space, dataset in (("tnb101_micro", "normal"), ("tnb101_micro", "class_scene"), ("darts", "cifar10")):
        bench = get_benchmark(space, dataset, data_dir)
        runs = [METHODS["rs"](bench, T, s) for s in SEEDS]
        write_results(root / space / dataset / "rs", runs, method="rs", space=space, dataset=dataset, budget=T,
                      objective=bench.value_name, test_name=bench.test_name)
    return root


def test_tnb101_and_darts_values_are_named_and_ranked(ranked_tree, data_dir, tmp_path):
    out = tmp_path / "report"
    written = make_report([ranked_tree], out, data_dir=data_dir)
    md = (out / "table.md").read_text()
    assert "test acc. (%)" not in md and "test_acc" not in md
    assert "normal valid_ssim |" in md and "class_scene valid_top1 (%)" in md and "cifar10 val_acc_surrogate (%)" in md
    assert "normal rank (of 4,096)" in md and "cifar10 rank (of 725)" in md
    assert "validation** metric" in md and "surrogate" in md and "not a trained test accuracy" in md
    assert "cost (s)" in md and "| rs |" in md
    csv = pd.read_csv(out / "table.csv")
    assert set(csv["value_name"]) == {"valid_ssim", "valid_top1", "val_acc_surrogate"}
    for space, dataset in (("tnb101_micro", "normal"), ("darts", "cifar10")):
        bench = get_benchmark(space, dataset, data_dir)
        result = next(r for r in find_results([ranked_tree]) if r.dataset == dataset)
        expected = np.mean([bench.test_rank(r["best_arch_id"]) for r in result.runs])
        got = csv[csv["dataset"] == dataset].iloc[0]
        assert got["mean_rank"] == pytest.approx(expected, abs=1e-3) and got["num_archs"] == bench.num_archs
        assert 1 <= got["mean_rank"] <= bench.num_archs
    assert any(p.name == "curves_tnb101_micro_normal_T8.png" for p in written)

    from robot_ray.report.plots import test_label

    results = find_results([ranked_tree])
    assert test_label([r for r in results if r.dataset == "normal"]) == "validation value of best found arch\n[valid_ssim]"
    assert "surrogate validation accuracy" in test_label([r for r in results if r.space == "darts"])
    assert "val_acc_surrogate (%)" in test_label([r for r in results if r.space == "darts"])


def test_ranks_left_empty_without_the_benchmark(ranked_tree):
    """No readable table: the report still works, ranks are missing, labels still right."""
    from robot_ray.report.table import summary_table, to_markdown

    md = to_markdown(summary_table(find_results([ranked_tree])))
    assert "rank" not in md.split("\n\n")[1] and "valid_ssim" in md and "test acc. (%)" not in md


def test_nb201_labels_keep_test_accuracy(tree, tmp_path):
    make_report([tree], tmp_path / "r")
    md = (tmp_path / "r" / "table.md").read_text()
    assert "cifar10 test_acc_200ep (%)" in md and "rank" not in md


def test_search_lines_say_n_a_for_nan_cost_and_show_ranks():
    from robot_ray.runs.search import format_run_line, format_summary

    run = dict(seed=1, best_arch_id=5, best_value=0.5, best_test_value=0.5, queries=3, cost=float("nan"), t0=None)
    line = format_run_line(run)
    assert "cost n/a" in line and "nan" not in line and "rank" not in line
    assert "rank 4/4096" in format_run_line({**run, "best_rank": 4, "num_archs": 4096})
    assert format_run_line({**run, "cost": 12.4}).endswith("cost 12s")
    summary = dict(method="rs", space="tnb101_micro", dataset="normal", budget=3, runs=[run], mean_test_value=0.5,
                   std_test_value=0.0, mean_cost=float("nan"), test_name="valid_ssim")
    text = format_summary(summary)
    assert "valid_ssim 0.50" in text and "cost n/a" in text and "nan" not in text
