"""run_comparison on a 2-CPU Ray: layout, replayed ledgers, external ``robot`` runner, errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from robot_ray.benchmarks import get_benchmark
from robot_ray.errors import RobotRayError
from robot_ray.baselines import METHODS
from robot_ray.runs.compare import expand_methods, pack, resolve_runner, run_comparison, unpack


def test_layout_and_summaries(tmp_path, data_dir, ray_session):
    def fake_robot(benchmark, budget, seed, *, metrics=None, **opts):
        """Stands in for robot_ray.runs.robot:robot_runner: RS plus a T0 and a weight vector.

        Defined inside the test so that Ray pickles it by value (workers cannot import tests).
        """
        from robot_ray.baselines import METHODS as methods
        from robot_ray.algorithm.ledger import RunResult as Result

        result = methods["rs"](benchmark, budget, seed)
        return Result(seed, result.ledger, t0=budget // 2, best_weights={m: 0.5 for m in metrics.names})

    summaries = run_comparison(
        space="nb201", datasets=["cifar10"], methods=["rs", "single-metric", "robot"], seeds=[0, 1, 2],
        budget=6, out=tmp_path, data_dir=data_dir, metrics=["synflow", "nwot"],
        runners={"robot": fake_robot}, seeds_per_task=2,
    )
    names = {s["method"] for s in summaries}
    assert names == {"rs", "single_metric-synflow", "single_metric-nwot", "robot"}
    for name in names:
        d = tmp_path / "nb201" / "cifar10" / name
        traj = pd.read_parquet(d / "trajectory.parquet")
        summary = json.loads((d / "summary.json").read_text())
        assert sorted(traj["seed"].unique()) == [0, 1, 2] and (traj.groupby("seed").size() == 6).all()
        assert summary["budget"] == 6 and summary["seeds"] == [0, 1, 2]
    robot = json.loads((tmp_path / "nb201" / "cifar10" / "robot" / "summary.json").read_text())
    assert robot["mean_t0"] == 3 and robot["runs"][0]["best_weights"] == {"synflow": 0.5, "nwot": 0.5}


def test_a_label_names_a_second_configuration(tmp_path, data_dir, ray_session):
    from robot_ray.report.table import method_rank

    [summary] = run_comparison(
        space="nb201", datasets=["cifar10"], methods=["rs"], seeds=[0], budget=3, out=tmp_path,
        data_dir=data_dir, label="v2",
    )
    assert summary["method"] == "rs@v2"
    assert (tmp_path / "nb201" / "cifar10" / "rs@v2" / "summary.json").is_file()
    rows = sorted(["robot@all12", "weaknas", "robot", "single_metric-snip", "rs"], key=method_rank)
    assert rows == ["rs", "weaknas", "single_metric-snip", "robot", "robot@all12"]
    with pytest.raises(RobotRayError, match="label '../x'"):
        run_comparison(space="nb201", datasets=["cifar10"], methods=["rs"], seeds=[0], budget=3, out=tmp_path,
                       data_dir=data_dir, label="../x")


def test_pack_unpack_replays_the_same_ledger(data_dir):
    bench = get_benchmark("nb201", "cifar100", data_dir)
    result = METHODS["rea"](bench, 9, 4)
    again = unpack(pack(result), bench, 9)
    assert again.ledger.rows() == result.ledger.rows() and again.extra == result.extra


def test_method_errors():
    with pytest.raises(RobotRayError, match="unknown method"):
        expand_methods(["rs", "bohb"], None)
    with pytest.raises(RobotRayError, match="needs training-free metrics"):
        expand_methods(["single-metric"], None)
    with pytest.raises(RobotRayError, match="cannot import the runner"):
        resolve_runner("robot", {"robot": "robot_ray.search.nowhere:run_robot"})
