"""End to end on a real two-node local Ray cluster: the job scripts submitted through the Jobs API.

One cluster for the module (startup costs 10-20 s a node here); all jobs are submitted at once.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import REPO, listening

pytestmark = pytest.mark.slow

JOB_TIMEOUT_S = 240


@pytest.fixture(scope="module")
def job_results(local_cluster, data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("jobs")
    has_precompute = (REPO / "robot_ray" / "cli" / "precompute.py").is_file()
    jobs = [
        {"name": "search_no_ray", "entrypoint": (
            f"python jobs/search.py --space nb201 --dataset cifar10 --budget 5 --seeds 0-1 --no-ray "
            f"--data-dir {data_dir} --out {out / 'search_no_ray'} --quiet")},
        # on Ray (Tune trials spread over both nodes), results to a URI: staged, then uploaded
        {"name": "search_ray", "entrypoint": (
            f"python jobs/search.py --space nb201 --dataset cifar10 --budget 4 --seeds 0 "
            f"--data-dir {data_dir} --out file://{out / 'search_ray'} --quiet")},
    ]
    if has_precompute:
        jobs.append({"name": "precompute", "entrypoint": (
            f"python jobs/precompute.py --space nb201 --dataset digits --metrics synflow,nwot --archs 0-3 "
            f"--batch-size 8 --shard-size 2 --num-actors 1 --out file://{out / 'cache'} --quiet")})
    results = local_cluster.submit(jobs, timeout_s=JOB_TIMEOUT_S)
    return out, results, has_precompute


def _ok(results: dict, name: str) -> None:
    res = results[name]
    assert res["status"].endswith("SUCCEEDED"), f"{name}: {res['status']}\n{res['logs']}"


def test_search_job_without_ray(job_results) -> None:
    out, results, _ = job_results
    _ok(results, "search_no_ray")
    summary = json.loads((out / "search_no_ray" / "summary.json").read_text())
    assert [r["seed"] for r in summary["runs"]] == [0, 1]
    assert all(r["queries"] == 5 for r in summary["runs"])
    assert (out / "search_no_ray" / "trajectory.parquet").is_file()


def test_search_job_on_ray_uploads_to_uri(job_results) -> None:
    out, results, _ = job_results
    _ok(results, "search_ray")
    assert "uploaded" in results["search_ray"]["logs"]
    summary = json.loads((out / "search_ray" / "summary.json").read_text())
    assert [r["seed"] for r in summary["runs"]] == [0] and summary["runs"][0]["queries"] == 4
    assert (out / "search_ray" / "trajectory.parquet").is_file()


def test_precompute_job(job_results) -> None:
    out, results, has_precompute = job_results
    assert has_precompute, "robot_ray/cli/precompute.py is missing"
    _ok(results, "precompute")
    from robot_ray.cache import read_cache_table

    table = read_cache_table(str(out / "cache"))
    assert len(table) == 4 and {"synflow", "nwot"} <= set(table.columns)


def test_jobs_api_listens_on_loopback_only(local_cluster) -> None:
    """The dashboard/Jobs port must never bind a routable address."""
    pid = local_cluster.netns_holder.pid if local_cluster.netns_holder else local_cluster.nodes[0].pid
    binds = {addr for addr, port in listening(pid) if port == local_cluster.dashboard_port}
    assert binds, "dashboard port not listening"
    assert binds <= {"127.0.0.1", "::ffff:127.0.0.1", "::1"}, binds
    if local_cluster.netns_holder:  # nothing else can be reached either: the namespace has only lo
        devices = Path(f"/proc/{pid}/net/dev").read_text().splitlines()[2:]
        assert [d.split(":")[0].strip() for d in devices] == ["lo"]
