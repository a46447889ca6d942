"""A local Ray started by robot-ray listens on loopback only (issue 17: nothing bound beyond loopback).

Starts Ray through :func:`robot_ray.cluster.connect` exactly as ``robot-ray search`` does, runs a
small RoBoT search on it (so Tune's trial workers exist too), then lists every listening TCP
socket and every bound, unconnected UDP socket of the driver and of all the processes it started
(GCS, raylet, monitor, dashboard and runtime-env agents, workers), and asserts each is bound to
127.0.0.0/8 or ::1 (an IPv4-mapped ``::ffff:127.0.0.1`` included): no wildcard, no machine IP.
"""

from __future__ import annotations

import ipaddress
import socket
import time

import psutil
import pytest

from robot_ray.cluster import connect


def _loopback(ip: str) -> bool:
    addr = ipaddress.ip_address(ip.split("%")[0])
    mapped = getattr(addr, "ipv4_mapped", None)
    return addr.is_loopback or (mapped is not None and mapped.is_loopback)


def _listening(root: psutil.Process) -> list[tuple[int, str, str, int]]:
    """``(pid, name, ip, port)`` of every LISTEN TCP socket and bound unconnected UDP socket."""
    found = []
    for proc in [root, *root.children(recursive=True)]:
        try:
            name = proc.name()
            conns = proc.net_connections(kind="inet")
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue  # a worker that exited meanwhile listens on nothing
        for c in conns:
            if c.status == psutil.CONN_LISTEN or (c.type == socket.SOCK_DGRAM and not c.raddr):
                found.append((proc.pid, name, c.laddr.ip, c.laddr.port))
    return found


def _ray_processes(root: psutil.Process) -> set[str]:
    names = set()
    for proc in root.children(recursive=True):
        try:
            names.add(" ".join(proc.cmdline())[:200])
        except psutil.Error:
            pass
    return names


@pytest.fixture
def own_ray(monkeypatch):
    """A Ray of this test's own, started by ``connect`` (an earlier test's shared Ray is shut down first)."""
    import ray

    monkeypatch.delenv("RAY_enable_metrics_collection", raising=False)
    if ray.is_initialized():
        ray.shutdown()
    connect(num_cpus=2)
    yield ray
    ray.shutdown()


def test_local_ray_and_a_search_listen_on_loopback_only(own_ray, data_dir, tmp_path):
    from robot_ray.runs.search import run_search

    me = psutil.Process()
    started = _listening(me)
    cmds = " ".join(_ray_processes(me))
    assert "gcs_server" in cmds and "raylet" in cmds, "connect() did not start a local Ray in this process tree"

    summary = run_search(space="nb201", dataset="cifar10", data_dir=str(data_dir), budget=4, seeds=(0,),
                         out=str(tmp_path / "run"), progress=False)
    assert summary["runs"][0]["queries"] == 4
    during = _listening(me)

    sockets = set(started) | set(during)
    assert len(sockets) >= 4, f"too few listening sockets found to mean anything: {sorted(sockets)}"
    exposed = sorted(s for s in sockets if not _loopback(s[2]))
    assert not exposed, "listening beyond loopback (pid, process, ip, port): " + ", ".join(map(str, exposed))
    node = own_ray.nodes()[0]
    assert own_ray.util.get_node_ip_address() == "127.0.0.1" and node["NodeManagerAddress"] == "127.0.0.1"
    assert node.get("MetricsExportPort", -1) in (-1, 0, None), "metrics export is on by default"


def test_metrics_export_on_request_is_on_loopback_too(monkeypatch):
    import ray

    monkeypatch.delenv("RAY_enable_metrics_collection", raising=False)
    if ray.is_initialized():
        ray.shutdown()
    connect(num_cpus=1, metrics_export=True)
    try:
        port = ray.nodes()[0].get("MetricsExportPort")
        assert isinstance(port, int) and port > 0
        deadline = time.time() + 30  # the agent opens its exporter shortly after the node registers
        sockets = _listening(psutil.Process())
        while not any(p == port for *_, p in sockets) and time.time() < deadline:
            time.sleep(0.5)
            sockets = _listening(psutil.Process())
        assert any(p == port for _, _, _, p in sockets), f"no socket on the metrics export port {port}: {sockets}"
        exposed = sorted(s for s in sockets if not _loopback(s[2]))
        assert not exposed, "listening beyond loopback (pid, process, ip, port): " + ", ".join(map(str, exposed))
    finally:
        ray.shutdown()


def test_joining_a_cluster_keeps_its_settings(monkeypatch):
    """Only a Ray robot-ray starts itself is pinned to loopback; a cluster's own settings are left alone."""
    from ray._private import ray_constants

    import robot_ray.cluster as cluster

    monkeypatch.delenv("RAY_enable_metrics_collection", raising=False)
    calls = []
    monkeypatch.setattr(cluster.ray, "is_initialized", lambda: False)
    monkeypatch.setattr(cluster.ray, "init", lambda **kw: calls.append((kw, ray_constants.ENABLE_RAY_CLUSTER)))
    monkeypatch.setattr(cluster, "_probe", lambda address: None)
    monkeypatch.setattr(cluster, "_warn_unless_loopback", lambda: None)
    before = ray_constants.ENABLE_RAY_CLUSTER
    cluster.connect(address="10.0.0.5:6379")
    (joined, switch), = calls
    assert joined == {"address": "10.0.0.5:6379", "log_to_driver": False, "configure_logging": False}
    assert switch == before
    calls.clear()
    cluster.connect(num_cpus=1)
    (local, switch), = calls
    assert local["address"] == "local" and local["_node_ip_address"] == "127.0.0.1"
    assert local["_system_config"] == {"enable_metrics_collection": False} and switch is False
    assert ray_constants.ENABLE_RAY_CLUSTER == before  # restored: a later join resolves addresses as Ray does
