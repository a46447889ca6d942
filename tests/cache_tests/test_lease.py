"""The writer's lease (robot_ray.io.lease): one writer per output, across processes, locally and on file://.

Other processes are real subprocesses (a holder, a killed holder, two precompute writers), so the
exclusive create, the refusal message and the takeover are tested as two writers meet them. No Ray:
the precompute writers plan and write shards through the same code as `robot-ray precompute`
(cache_lock, prepare, _store), with a stand-in for the actor pool.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from robot_ray.errors import RobotRayError
from robot_ray.io.lease import LEASE_FILE, Lease, LeaseBusy, hold, read_lease

HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from robot_ray.io.lease import Lease
    location, ready, stop = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    with Lease(location, what="test output", ttl=float(sys.argv[4])):
        ready.write_text("held")
        deadline = time.monotonic() + 60
        while not stop.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
""")


class Holder:
    """A subprocess holding the lease on ``location`` until :meth:`stop` (or a kill)."""

    def __init__(self, tmp: Path, location: str, ttl: float = 60.0) -> None:
        self.ready, self.stop_file = tmp / f"ready-{id(self)}", tmp / f"stop-{id(self)}"
        self.proc = subprocess.Popen([sys.executable, "-c", HOLDER, location, str(self.ready), str(self.stop_file),
                                      str(ttl)], stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not self.ready.exists():
            assert self.proc.poll() is None, self.proc.communicate()[1]
            assert time.monotonic() < deadline, "the holder did not take the lease"
            time.sleep(0.02)

    def stop(self) -> None:
        self.stop_file.write_text("stop")
        assert self.proc.wait(timeout=30) == 0, self.proc.communicate()[1]

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)


@pytest.mark.parametrize("holder_form, second_form", [("path", "path"), ("uri", "uri"), ("path", "uri")])
def test_second_writer_is_refused_naming_the_first_then_gets_it(tmp_path, holder_form, second_form):
    out = tmp_path / "out"
    form = {"path": str(out), "uri": out.as_uri()}
    holder = Holder(tmp_path, form[holder_form])
    try:
        with pytest.raises(LeaseBusy) as err:
            Lease(form[second_form], what="test output", hint="or use another --out").acquire()
        message = str(err.value)
        assert f"host {socket.gethostname()}, pid {holder.proc.pid}, since " in message
        assert "wait for it to finish, or use another --out" in message
        assert read_lease(form[second_form])["owner"]["pid"] == holder.proc.pid
    finally:
        holder.stop()
    assert not out.exists(), "released on normal exit, and the directory made for it removed"
    with Lease(form[second_form], what="test output") as lease:
        assert read_lease(out)["owner"]["uuid"] == lease.uuid
    assert read_lease(out) is None


def test_the_lease_holds_the_documented_record(tmp_path):
    with hold(tmp_path, what="test output", ttl=30) as lease:
        rec = json.loads((tmp_path / LEASE_FILE).read_text())
    assert rec["format"] == "robot-ray-lease" and rec["version"] == 1 and rec["what"] == "test output"
    assert rec["owner"]["host"] == socket.gethostname() and rec["owner"]["pid"] == os.getpid()
    assert rec["owner"]["uuid"] == lease.uuid
    assert {"acquired", "heartbeat", "expires"} <= set(rec)
    assert rec["expires_unix"] == pytest.approx(rec["heartbeat_unix"] + 30)


def test_a_stale_lease_of_another_host_is_taken_over_with_a_log_line(tmp_path, caplog):
    old = time.time() - 600
    stale = {"format": "robot-ray-lease", "version": 1, "what": "test output",
             "owner": {"host": "node-7", "pid": 4242, "uuid": "f" * 32, "node": "elsewhere", "start": None},
             "acquired": "2026-01-01T00:00:00+00:00", "heartbeat": "2026-01-01T00:09:00+00:00",
             "heartbeat_unix": old, "expires": "2026-01-01T00:10:00+00:00", "expires_unix": old + 60}
    (tmp_path / LEASE_FILE).write_text(json.dumps(stale))
    with caplog.at_level(logging.WARNING, logger="robot_ray.io.lease"):
        with Lease(tmp_path.as_uri(), what="test output") as lease:
            assert read_lease(tmp_path)["owner"]["uuid"] == lease.uuid
    assert "taking over the lease of host node-7, pid 4242" in caplog.text
    assert "older than its expiry" in caplog.text


def test_a_live_lease_of_another_host_is_not_taken_over(tmp_path):
    now = time.time()
    live = {"format": "robot-ray-lease", "version": 1, "what": "test output",
            "owner": {"host": "node-7", "pid": 4242, "uuid": "f" * 32, "node": "elsewhere", "start": None},
            "acquired": "2026-01-01T00:00:00+00:00", "heartbeat": "now", "heartbeat_unix": now,
            "expires": "soon", "expires_unix": now + 60}
    (tmp_path / LEASE_FILE).write_text(json.dumps(live))
    with pytest.raises(LeaseBusy, match="host node-7, pid 4242"):
        Lease(tmp_path, what="test output").acquire()


def test_a_killed_holder_on_this_machine_is_taken_over_at_once(tmp_path, caplog):
    holder = Holder(tmp_path, str(tmp_path / "out"), ttl=3600)  # an expiry no test waits for
    holder.kill()
    assert (tmp_path / "out" / LEASE_FILE).exists(), "kill -9 leaves the lease behind"
    with caplog.at_level(logging.WARNING, logger="robot_ray.io.lease"):
        with Lease(tmp_path / "out", what="test output"):
            pass
    assert f"process {holder.proc.pid} on this machine is gone" in caplog.text


def test_heartbeat_renews_and_a_waiting_writer_gets_the_lease_after_release(tmp_path):
    holder = Holder(tmp_path, str(tmp_path), ttl=0.4)
    first = read_lease(tmp_path)["heartbeat_unix"]
    time.sleep(0.6)  # longer than the expiry: only the heartbeat keeps it
    assert read_lease(tmp_path)["heartbeat_unix"] > first
    with pytest.raises(LeaseBusy):
        Lease(tmp_path, what="test output", ttl=0.4).acquire()
    waiter = Lease(tmp_path, what="test output", wait=20)
    started = time.monotonic()
    holder.stop_file.write_text("stop")
    with waiter:
        assert time.monotonic() - started < 15
    assert holder.proc.wait(timeout=30) == 0


@pytest.mark.parametrize("error", [RobotRayError("bad input"), KeyboardInterrupt()])
def test_released_on_error_and_on_ctrl_c(tmp_path, error):
    with pytest.raises(type(error)):
        with hold(tmp_path, what="test output"):
            assert (tmp_path / LEASE_FILE).exists()
            raise error
    assert not (tmp_path / LEASE_FILE).exists()
    assert not [p for p in tmp_path.iterdir()], "no temporary files left"


def test_a_lease_taken_by_another_writer_is_lost_and_check_raises(tmp_path):
    with hold(tmp_path, what="test output") as lease:
        other = json.loads((tmp_path / LEASE_FILE).read_text())
        other["owner"] = {**other["owner"], "host": "node-9", "pid": 1, "uuid": "e" * 32}
        (tmp_path / LEASE_FILE).write_text(json.dumps(other))
        lease.renew()
        with pytest.raises(RobotRayError, match="now held by host node-9, pid 1"):
            lease.check()
    assert (tmp_path / LEASE_FILE).exists(), "the new holder's lease is left alone"


# ---------------------------------------------------------------------------- precompute writers

WRITER = textwrap.dedent("""
    import sys, time
    import pandas as pd
    from robot_ray.errors import RobotRayError
    from robot_ray.precompute import PrecomputeConfig, _store, cache_lock, prepare
    out, archs, wait = sys.argv[1], sys.argv[2], float(sys.argv[3])
    config = PrecomputeConfig(space="nb201", dataset="digits", metrics=("params",), archs=archs, out=out,
                              shard_size=4, progress=False, wait=wait)
    try:
        with cache_lock(out, wait=wait) as lease:
            plan = prepare(config)
            plan.lease = lease
            for shard in plan.todo():  # the actor pool's work, without Ray: arch id as the value
                frame = pd.DataFrame({"arch": plan.strings(shard, None), "params": shard.ids * 1.0})
                time.sleep(0.3)
                _store(plan, shard, {"index": shard.index, "frame": frame, "node_id": "test", "seconds": 0.3})
                plan.manifest.save(plan.directory)
    except RobotRayError as exc:
        print(f"refused: {exc}")
        sys.exit(2)
""")


def _writers(out: Path, wait: float) -> list[subprocess.CompletedProcess]:
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(out), archs, str(wait)], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for archs in ("0-11", "12-23")]
    return [(p.wait(timeout=120), p.stdout.read()) for p in procs]


def test_two_precompute_writers_of_one_cache_lose_no_rows_when_one_waits(tmp_path):
    from robot_ray.cache import read_cache_table

    out = tmp_path / "cache"
    results = _writers(out, wait=60)
    assert [code for code, _ in results] == [0, 0], results
    table = read_cache_table(out)  # verifies every shard against the manifest's sha256
    assert table["arch_id"].tolist() == list(range(24))
    np.testing.assert_array_equal(table["params"].to_numpy(), np.arange(24.0))
    assert read_lease(out) is None


def test_two_precompute_writers_of_one_cache_one_refused_the_other_whole(tmp_path):
    from robot_ray.cache import read_cache_table

    out = tmp_path / "cache"
    results = _writers(out, wait=0)
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    refused = next(text for code, text in results if code == 2)
    assert "metric cache" in refused and "is being written by host" in refused and "--wait SECONDS" in refused
    table = read_cache_table(out)
    ids = table["arch_id"].to_numpy()
    assert ids.tolist() in (list(range(12)), list(range(12, 24))), ids
    np.testing.assert_array_equal(table["params"].to_numpy(), ids * 1.0)


# ---------------------------------------------------------------------------- search --out


def test_a_second_search_into_one_out_is_refused_before_ray(tmp_path, data_dir, monkeypatch):
    import ray

    from robot_ray.cli import main

    if ray.is_initialized():
        ray.shutdown()

    def tripwire(*args, **kwargs):
        raise AssertionError("Ray was started although --out is held by another search")

    monkeypatch.setattr(ray, "init", tripwire)
    monkeypatch.setenv("ROBOT_RAY_DATA", str(data_dir))
    out = tmp_path / "out"
    holder = Holder(tmp_path, str(out))
    try:
        before = sorted(p.name for p in out.iterdir())
        result = CliRunner().invoke(main, ["search", "--quiet", "--budget", "5", "--seeds", "0", "--out", str(out)])
        assert result.exit_code == 2, (result.output, result.exception)
        lines = [ln for ln in result.output.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("robot-ray: error: search output"), result.output
        assert f"pid {holder.proc.pid}" in lines[0] and "or pass another --out" in lines[0]
        assert sorted(p.name for p in out.iterdir()) == before, "the refused search wrote nothing"
    finally:
        holder.stop()


def test_run_search_holds_the_lease_and_releases_it(tmp_path, data_dir):
    from robot_ray.runs.search import run_search

    out = tmp_path / "out"
    summary = run_search(space="nb201", dataset="cifar10", budget=3, seeds=(0,), use_ray=False, progress=False,
                         data_dir=str(data_dir), out=str(out))
    assert summary["runs"] and (out / "summary.json").exists()
    assert not (out / LEASE_FILE).exists()
    holder = Holder(tmp_path, str(out))
    try:
        with pytest.raises(LeaseBusy, match="search output"):
            run_search(space="nb201", dataset="cifar10", budget=3, seeds=(0,), use_ray=False, progress=False,
                       data_dir=str(data_dir), out=str(out))
    finally:
        holder.stop()


def test_a_second_ray_job_writing_one_output_uri_is_refused(tmp_path, capsys):
    """jobs/_common.py holds the lease on the --out URI from before its download to after its upload."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "jobs"))
    try:
        import _common
    finally:
        sys.path.pop(0)
    bucket = tmp_path / "bucket"
    holder = Holder(tmp_path, bucket.as_uri())
    try:
        code = _common.run("precompute", ["--space", "nb201", "--dataset", "digits", "--metrics", "params",
                                          "--archs", "0-3", "--out", bucket.as_uri()])
    finally:
        holder.stop()
    err = capsys.readouterr().err
    assert code == 2, err
    assert "precompute output" in err and f"pid {holder.proc.pid}" in err and "or write to another --out" in err
    assert not bucket.exists() or not list(bucket.iterdir()), "nothing was uploaded over the first job's output"


def test_the_object_store_protocol_check_write_settle_read_back(tmp_path, monkeypatch, caplog):
    """s3:// and gs:// go through _Store (no conditional write in pyarrow.fs); exercised here on a local pyarrow fs."""
    import pyarrow.fs as pafs

    from robot_ray.io import lease as lease_module

    monkeypatch.setattr(lease_module, "SETTLE_S", 0.05)
    monkeypatch.setattr(lease_module, "_backend",
                        lambda location: lease_module._Store(pafs.LocalFileSystem(), f"{location}/{LEASE_FILE}"))
    with Lease(str(tmp_path), what="bucket output") as first:
        with pytest.raises(LeaseBusy, match=f"pid {os.getpid()}"):
            Lease(str(tmp_path), what="bucket output").acquire()
        assert read_lease(tmp_path)["owner"]["uuid"] == first.uuid
    assert not (tmp_path / LEASE_FILE).exists()

    old = time.time() - 600
    (tmp_path / LEASE_FILE).write_text(json.dumps({
        "format": "robot-ray-lease", "version": 1, "owner": {"host": "node-7", "pid": 4242, "uuid": "f" * 32},
        "acquired": "then", "heartbeat": "then", "expires_unix": old}))
    with caplog.at_level(logging.WARNING, logger="robot_ray.io.lease"):
        with Lease(str(tmp_path), what="bucket output"):
            pass
    assert "taking over the lease of host node-7, pid 4242" in caplog.text
