"""What a resume checks before it continues: trust (Tune's state is pickle), the same settings, its state files.

The searches here run in the plain loop (``--no-ray``) or not at all: every check runs before
Ray would start, and the Ray path's own resume is tested in test_resume.py and test_interrupt.py.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import pickle
import stat
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from robot_ray.cli import main
from robot_ray.errors import RobotRayError
from robot_ray.io.trust import check_private_dir, local_path
from robot_ray.runs.resume import check_resume_state
from robot_ray.runs.search import SearchConfig, load_config, run_search, save_config

JOBS = Path(__file__).resolve().parents[2] / "jobs"
BASE = ["--budget", "5", "--seeds", "0-1", "--no-ray", "--quiet"]


class _Planted:
    """Unpickling this writes a marker file: the code execution a planted pickle would get."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (Path(self.marker), "pwned"))


def _private(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def _fake_run(out: Path, *, use_ray: bool = True, seeds=(10, 11), budget: int = 8) -> SearchConfig:
    """A recorded search with a checkpointed Tune experiment (state files as Tune and robot-ray name them)."""
    config = SearchConfig(out=str(_private(out)), seeds=seeds, budget=budget, use_ray=use_ray,
                          table_trials="query")  # a trial per query: the fan-out searcher's state beside it
    save_config(config)
    exp = out / "tune" / "robot"
    exp.mkdir(parents=True)
    (exp / "experiment_state-2026-01-01_00-00-00.json").write_text("{}")
    trial = exp / "table_trial_0001"
    trial.mkdir()
    (trial / "params.pkl").write_bytes(pickle.dumps({"arch_id": 1}))
    children = {str(s): {"version": 2, "seed": s, "budget": budget, "names": list(config.metrics),
                         "source": {"space": "nb201", "dataset": "cifar10"}} for s in seeds}
    (exp / "searcher-state-2026-01-01_00-00-00.pkl").write_text(json.dumps({"version": 2, "children": children}))
    return dataclasses.replace(config, resume=True)


def check_resume(config: SearchConfig) -> None:
    """What a resume checks first (prepare_search runs it before anything is loaded)."""
    from robot_ray.runs.resume import check_resume as check

    check(config, load_config(config.out))


def _search(data_dir, out, *extra):
    return CliRunner().invoke(main, ["search", "--data-dir", str(data_dir), *BASE, "--out", str(out), *extra])


def _resume(out, *extra):
    return CliRunner().invoke(main, ["search", "--resume", str(out), *extra])


# --- trust ------------------------------------------------------------------------------------


def test_private_dir_is_accepted(tmp_path):
    config = _fake_run(tmp_path / "run")
    check_private_dir(config.out, "the search to resume")
    check_private_dir(f"file://{config.out}", "the search to resume")
    check_resume(config)


def test_group_writable_file_is_refused(tmp_path):
    config = _fake_run(tmp_path / "run")
    params = next(Path(config.out).rglob("params.pkl"))
    params.chmod(0o664)
    with pytest.raises(RobotRayError) as err:
        check_private_dir(config.out, "the search to resume")
    text = str(err.value)
    assert "params.pkl" in text and "writable by group or others" in text and f"chmod -R go-w {config.out}" in text
    with pytest.raises(RobotRayError, match="writable by group or others"):
        check_resume(config)


@pytest.mark.parametrize("where", [".", "tune/robot"])
def test_group_or_other_writable_directory_is_refused(tmp_path, where):
    config = _fake_run(tmp_path / "run")
    (Path(config.out) / where).chmod(0o777 if where == "." else 0o775)
    with pytest.raises(RobotRayError, match="writable by group or others"):
        check_private_dir(config.out, "the search to resume")


def test_file_owned_by_someone_else_is_refused(tmp_path, monkeypatch):
    config = _fake_run(tmp_path / "run")
    real = os.getuid()
    # what another user's files look like from here: the directory is ours, one state file is not
    target = next(Path(config.out).rglob("searcher-state-*.pkl"))
    real_stat = os.stat

    def stat_as_other(path, *args, **kwargs):
        st = real_stat(path, *args, **kwargs)
        if Path(path) == target:
            fields = list(st)
            fields[stat.ST_UID] = real + 4242
            return os.stat_result(fields)
        return st

    monkeypatch.setattr(os, "stat", stat_as_other)
    with pytest.raises(RobotRayError) as err:
        check_private_dir(config.out, "the search to resume")
    assert "searcher-state-" in str(err.value) and "owned by uid" in str(err.value) and "not by you" in str(err.value)


def test_directory_of_another_user_is_refused(tmp_path, monkeypatch):
    config = _fake_run(tmp_path / "run")
    monkeypatch.setattr(os, "getuid", lambda: os.geteuid() + 4242)
    with pytest.raises(RobotRayError, match=r"owned by .*not by you"):
        check_private_dir(config.out, "the search to resume")


def test_symlink_to_a_writable_target_is_refused(tmp_path):
    config = _fake_run(tmp_path / "run")
    elsewhere = tmp_path / "shared.pkl"
    elsewhere.write_bytes(b"x")
    elsewhere.chmod(0o666)
    (Path(config.out) / "tune" / "robot" / "tuner.pkl").symlink_to(elsewhere)
    with pytest.raises(RobotRayError, match="tuner.pkl.*writable by group or others"):
        check_private_dir(config.out, "the search to resume")


def test_writable_parent_is_refused_unless_sticky(tmp_path):
    parent = tmp_path / "scratch"
    config = _fake_run(parent / "run")
    parent.chmod(0o777)
    try:
        with pytest.raises(RobotRayError, match=r"scratch.*writable by group or others .*can replace run"):
            check_private_dir(config.out, "the search to resume")
        parent.chmod(0o777 | stat.S_ISVTX)  # like /tmp: others cannot rename what is ours
        check_private_dir(config.out, "the search to resume")
    finally:
        parent.chmod(0o700)


def test_object_store_uris_are_not_checked_locally_and_file_uris_are(tmp_path):
    assert local_path("s3://bucket/run") is None and local_path("gs://bucket/run") is None
    assert local_path("file:///a/b%20c") == Path("/a/b c")
    check_private_dir("s3://bucket/run", "the search to resume")  # the bucket policy is the boundary
    config = _fake_run(tmp_path / "run")
    Path(config.out).chmod(0o770)
    with pytest.raises(RobotRayError, match="writable by group or others"):
        check_private_dir(f"file://{config.out}", "the search to resume")
    check_private_dir(tmp_path / "missing", "the search to resume")  # nothing there, nothing to unpickle


def test_cli_resume_of_a_planted_pickle_in_a_group_writable_dir_is_refused(tmp_path):
    config = _fake_run(tmp_path / "run")
    marker = tmp_path / "marker"
    tuner = Path(config.out) / "tune" / "robot" / "tuner.pkl"
    tuner.write_bytes(pickle.dumps(_Planted(str(marker))))
    tuner.chmod(0o666)
    result = _resume(config.out, "--quiet")
    assert result.exit_code == 2, result.output
    assert "robot-ray: error: refusing to read the search to resume" in result.output
    assert "tuner.pkl" in result.output and "chmod -R go-w" in result.output and "Traceback" not in result.output
    assert not marker.exists()


def test_cli_resume_of_a_private_run_works(data_dir, tmp_path):
    out = tmp_path / "run"
    assert _search(data_dir, out).exit_code == 0
    first = json.loads((out / "summary.json").read_text())
    (out / "summary.json").unlink()
    result = _resume(out, "--quiet")
    assert result.exit_code == 0, result.output
    assert json.loads((out / "summary.json").read_text())["runs"] == first["runs"]


def test_jobs_resume_from_a_group_writable_file_uri_is_refused(data_dir, tmp_path):
    sys.path.insert(0, str(JOBS))
    try:
        run = importlib.import_module("_common").run
    finally:
        sys.path.remove(str(JOBS))
    out = _private(tmp_path / "bucket") / "run"
    uri = f"file://{out}"
    assert run("search", ["--data-dir", str(data_dir), *BASE, "--out", uri]) == 0
    (out / "summary.json").unlink()
    out.chmod(0o775)
    assert run("search", ["--out", uri, "--resume", uri, "--quiet"]) == 2
    assert not (out / "summary.json").exists()
    out.chmod(0o755)
    assert run("search", ["--out", uri, "--resume", uri, "--quiet"]) == 0
    assert (out / "summary.json").exists()


# --- the same settings -------------------------------------------------------------------------


def test_library_resume_with_other_settings_is_refused(data_dir, tmp_path):
    out = str(tmp_path / "run")
    settings = dict(data_dir=str(data_dir), budget=5, seeds=(0, 1), use_ray=False, out=out, progress=False)
    first = run_search(**settings)
    for name, value in (("seeds", (0, 2)), ("budget", 6), ("metrics", ("synflow", "snip")), ("dataset", "cifar100"),
                        ("method", "rs")):
        with pytest.raises(RobotRayError) as err:
            run_search(**{**settings, name: value, "resume": True})
        text = str(err.value)
        assert f"{name}: recorded" in text and "another --out" in text and "load_config" in text
    again = run_search(**{**settings, "resume": True})
    assert again["runs"] == first["runs"]
    assert run_search(load_config(out))["runs"] == first["runs"]


def test_library_resume_without_a_recorded_search_is_refused(tmp_path):
    with pytest.raises(RobotRayError, match="holds no robot-ray search to resume"):
        run_search(out=str(_private(tmp_path / "empty")), resume=True, use_ray=False)


@pytest.mark.parametrize("flags, named", [
    (["--budget", "9"], "--budget 9 (recorded: budget 5)"),
    (["--seeds", "0-2"], "--seeds 0-2 (recorded: seeds 0,1)"),
    (["--metrics", "synflow,snip"], "--metrics synflow,snip (recorded: metrics synflow,snip,nwot,zen)"),
    (["--method", "rea"], "--method rea (recorded: method 'robot')"),
    (["--dataset", "cifar100"], "--dataset cifar100 (recorded: dataset 'cifar10')"),
    (["--bo-rounds", "3"], "--bo-rounds 3 (recorded: bo_rounds None)"),
    (["--no-ray"], None),  # the recorded run is --no-ray: the same, so it runs (below)
    (["--epochs", "3"], "--epochs 3 (recorded: train {})"),
])
def test_cli_resume_with_a_differing_flag_is_refused(data_dir, tmp_path, flags, named):
    out = tmp_path / "run"
    assert _search(data_dir, out).exit_code == 0
    before = (out / "summary.json").read_bytes()
    result = _resume(out, *flags)
    if named is None:
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert "\n" not in line and named in line and "leave them out" in line and "another --out" in line
    assert (out / "summary.json").read_bytes() == before


def test_cli_resume_with_the_same_flags_or_resources_runs(data_dir, tmp_path):
    out = tmp_path / "run"
    assert _search(data_dir, out).exit_code == 0
    result = _resume(out, "--budget", "5", "--seeds", "0,1", "--no-ray", "--trial-cpus", "0.5", "--quiet",
                     "--out", str(out))
    assert result.exit_code == 0, result.output
    other = _resume(out, "--out", str(tmp_path / "elsewhere"))
    assert other.exit_code == 2 and "a resumed search writes where it was started" in other.output


def test_every_search_flag_is_honoured_or_compared_on_resume():
    from robot_ray.cli.search import RESUME_COMPARED, RESUME_HONOURED, TRAIN_FLAGS, search_command

    placed = {*RESUME_HONOURED, *RESUME_COMPARED, *TRAIN_FLAGS, "no_ray"}
    assert {p.name for p in search_command.params} <= placed


# --- the state files ---------------------------------------------------------------------------


def test_experiment_without_searcher_state_is_refused(tmp_path):
    config = _fake_run(tmp_path / "run")
    next(Path(config.out).rglob("searcher-state-*.pkl")).unlink()
    with pytest.raises(RobotRayError, match="has an experiment state but no searcher state"):
        check_resume(config)
    result = _resume(config.out)
    assert result.exit_code == 2 and "no searcher state" in result.output


def test_searcher_state_of_another_search_is_refused(tmp_path):
    config = _fake_run(tmp_path / "run")
    other = _fake_run(tmp_path / "other", seeds=(3,), budget=4)
    src = next(Path(other.out).rglob("searcher-state-*.pkl"))
    dst = next(Path(config.out).rglob("searcher-state-*.pkl"))
    dst.write_bytes(src.read_bytes())
    with pytest.raises(RobotRayError) as err:
        check_resume_state(config)
    assert "belongs to another search" in str(err.value) and "seeds [3], recorded [10, 11]" in str(err.value)


def test_unreadable_searcher_state_is_refused(tmp_path):
    config = _fake_run(tmp_path / "run")
    next(Path(config.out).rglob("searcher-state-*.pkl")).write_text('{"children": ')
    with pytest.raises(RobotRayError, match="cannot read the searcher checkpoint"):
        check_resume_state(config)


def test_killed_before_the_first_checkpoint_starts_over(tmp_path):
    config = _fake_run(tmp_path / "run")
    for f in Path(config.out).rglob("*state-*"):
        f.unlink()
    check_resume(config)  # nothing checkpointed: the search starts over with the recorded settings
    plain = _fake_run(tmp_path / "plain", use_ray=False)
    next(Path(plain.out).rglob("searcher-state-*.pkl")).unlink()
    check_resume(plain)  # the plain loop recomputes: Tune's files are not read


def test_a_umask_of_002_does_not_make_the_run_untrusted(data_dir, tmp_path):
    """Ubuntu's default umask would make every file group-writable and every resume refused."""
    old = os.umask(0o002)
    try:
        out = _private(tmp_path / "run")
        assert _search(data_dir, out).exit_code == 0
        modes = [p.stat().st_mode for p in [out, *out.rglob("*")]]
        assert modes and not any(mode & 0o022 for mode in modes)
        result = _resume(out, "--quiet")
        assert result.exit_code == 0, result.output
    finally:
        os.umask(old)
