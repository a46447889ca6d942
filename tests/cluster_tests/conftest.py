"""A real two-node Ray cluster on this machine, owned (and stopped) by the tests alone.

Why the care: several people share this machine and its Ray installations. So the cluster

* runs in a private network namespace when the machine allows one (``unshare --net``: only a
  loopback interface, so nothing it binds is reachable from outside, even Ray's GCS and raylet,
  which bind the wildcard address whatever ``--node-ip-address`` says); otherwise on loopback
  addresses and free ports of the host;
* has its own ``--temp-dir`` (so ``address="auto"`` of other people never finds it);
* is stopped by killing exactly the processes it started (``ray stop`` would kill every Ray on
  the machine).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# The Jobs API needs the dashboard's HTTP server, i.e. `ray[default]` (aiohttp, grpcio), which
# pyproject pins. $ROBOT_RAY_CLUSTER_PYTHON may name another interpreter to run the nodes with.
PYTHON = os.environ.get("ROBOT_RAY_CLUSTER_PYTHON") or sys.executable
VENV_BIN = Path(PYTHON).parent
SUBMIT = Path(__file__).with_name("submit_jobs.py")
START_TIMEOUT_S = 150


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _netns_available() -> bool:
    if os.environ.get("ROBOT_RAY_TEST_NO_NETNS") or not (shutil.which("unshare") and shutil.which("nsenter")):
        return False
    try:
        return subprocess.run(["unshare", "--net", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _children_tree(pids: set[int]) -> set[int]:
    """``pids`` and all their descendants (from /proc; Ray reparents nothing we need to chase)."""
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                parent[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    out, frontier = set(pids), set(pids)
    while frontier:
        frontier = {p for p, pp in parent.items() if pp in frontier} - out
        out |= frontier
    return out


def listening(pid: int) -> list[tuple[str, int]]:
    """``(address, port)`` of every listening TCP socket in the network namespace of ``pid``."""
    out = []
    for name in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{name}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] != "0A":  # LISTEN
                continue
            addr_hex, port_hex = parts[1].split(":")
            if len(addr_hex) == 8:
                addr = socket.inet_ntop(socket.AF_INET, bytes.fromhex(addr_hex)[::-1])
            else:
                raw = bytes.fromhex(addr_hex)
                addr = socket.inet_ntop(socket.AF_INET6, b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4)))
            out.append((addr, int(port_hex, 16)))
    return out


@dataclass
class LocalCluster:
    """Handles of the started cluster: addresses, the processes, how to run a command inside."""

    temp_dir: Path
    gcs_port: int
    dashboard_port: int
    netns_holder: subprocess.Popen | None = None
    nodes: list[subprocess.Popen] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    @property
    def dashboard_url(self) -> str:
        return f"http://127.0.0.1:{self.dashboard_port}"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.gcs_port}"

    def prefix(self) -> list[str]:
        """Command prefix that runs inside the cluster's network (empty without a namespace)."""
        return ["nsenter", f"--net=/proc/{self.netns_holder.pid}/ns/net"] if self.netns_holder else []

    def env(self) -> dict[str, str]:
        env = dict(os.environ, PATH=f"{VENV_BIN}:{os.environ['PATH']}", RAY_USAGE_STATS_ENABLED="0")
        for key in ("RAY_ADDRESS", "RAY_JOB_ID"):
            env.pop(key, None)
        # Ray 2.60 turns token auth on for a head when it finds (or makes) ~/.ray/auth_token, but
        # not for joining nodes and clients: name the mode so they send the token too.
        if (Path.home() / ".ray" / "auth_token").exists():
            env["RAY_AUTH_MODE"] = "token"
        return env

    def _node_ports(self, name: str) -> list[str]:
        # our own ports for everything Ray would otherwise pick by default (and share with others)
        return [f"--dashboard-agent-listen-port={free_port()}", f"--dashboard-agent-grpc-port={free_port()}",
                f"--metrics-export-port={free_port()}", f"--runtime-env-agent-port={free_port()}",
                f"--node-manager-port={free_port()}", f"--object-manager-port={free_port()}",
                "--object-store-memory=200000000", "--disable-usage-stats",
                # one temp dir per node: two nodes sharing one would share (and delete) each other's
                # runtime_resources, e.g. the unpacked working_dir of a running job
                f"--temp-dir={self.temp_dir / name}"]

    def _start(self, args: list[str], name: str) -> None:
        log = self.temp_dir.parent / f"{name}.log"
        self.logs.append(log)
        proc = subprocess.Popen(
            [*self.prefix(), PYTHON, "-m", "ray.scripts.scripts", "start", "--block", *args, *self._node_ports(name)],
            env=self.env(), cwd=self.temp_dir.parent, stdout=open(log, "w"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.nodes.append(proc)

    def start(self) -> None:
        self._start(["--head", "--node-ip-address=127.0.0.1", f"--port={self.gcs_port}",
                     "--dashboard-host=127.0.0.1", f"--dashboard-port={self.dashboard_port}", "--num-cpus=1"], "head")
        self._wait(lambda: self._alive_nodes() >= 1, "head node")
        self._start([f"--address={self.address}", "--node-ip-address=127.0.0.1", "--num-cpus=1"], "worker")
        self._wait(lambda: self._alive_nodes() >= 2, "second node")

    def _alive_nodes(self) -> int:
        # Ray 2.60 enables token auth when ~/.ray/auth_token exists: send the token like Ray's clients
        probe = (
            "import pathlib,urllib.request as u\n"
            "p=pathlib.Path.home()/'.ray'/'auth_token'\n"
            "h={'Authorization':'Bearer '+p.read_text().strip()} if p.exists() else {}\n"
            f"t=u.urlopen(u.Request('{self.dashboard_url}/api/v0/nodes',headers=h),timeout=3).read().decode()\n"
            "print(t.count('\"ALIVE\"'))"
        )
        try:
            res = subprocess.run([*self.prefix(), sys.executable, "-c", probe], capture_output=True, text=True, timeout=20)
            return int(res.stdout.strip() or 0)
        except (subprocess.TimeoutExpired, ValueError):
            return 0

    def _wait(self, ready, what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.nodes):
                break
            if ready():
                return
            time.sleep(2)
        tails = "\n".join(f"--- {log}\n" + log.read_text()[-3000:] for log in self.logs if log.exists())
        raise RuntimeError(f"{what} did not come up within {START_TIMEOUT_S}s\n{tails}")

    def submit(self, jobs: list[dict], timeout_s: float) -> list[dict]:
        """Submit ``jobs`` through the Jobs API, wait for all; returns status and logs per job."""
        spec = json.dumps({"url": self.dashboard_url, "working_dir": str(REPO), "jobs": jobs, "timeout_s": timeout_s})
        res = subprocess.run([*self.prefix(), PYTHON, str(SUBMIT)], input=spec, capture_output=True,
                             text=True, env=self.env(), timeout=timeout_s + 60)
        if res.returncode != 0:
            raise RuntimeError(f"job submission failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
        return json.loads(res.stdout.strip().splitlines()[-1])

    def stop(self) -> None:
        """Kill what we started, by process id: the node process groups, their descendants, and
        (with a namespace) every process in our namespace. Never ``ray stop``."""
        ours = {p.pid for p in self.nodes}
        if self.netns_holder:
            ours.add(self.netns_holder.pid)
        ours = _children_tree(ours) | self._in_our_namespace()
        for p in self.nodes:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(p.poll() is None for p in self.nodes):
            time.sleep(0.5)
        for pid in ours | self._in_our_namespace():
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for p in [*self.nodes, *([self.netns_holder] if self.netns_holder else [])]:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                pass

    def _in_our_namespace(self) -> set[int]:
        if not self.netns_holder:
            return set()
        try:
            ns = os.readlink(f"/proc/{self.netns_holder.pid}/ns/net")
        except OSError:
            return set()
        out = set()
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if os.readlink(f"/proc/{entry}/ns/net") == ns:
                        out.add(int(entry))
                except OSError:
                    continue
        return out


@pytest.fixture(scope="module")
def local_cluster():
    """Two Ray nodes (1 CPU each), loopback only, with the dashboard/Jobs API on 127.0.0.1."""
    missing = subprocess.run([PYTHON, "-c", "import aiohttp, grpc, ray.dashboard"], capture_output=True).returncode
    if missing:  # a broken install, not an optional feature: pyproject pins ray[default]
        pytest.fail(f"the Ray Jobs API needs ray[default] (aiohttp, grpcio), which {PYTHON} lacks: "
                    "reinstall with pip install -e '.[test]'")
    base = Path(tempfile.mkdtemp(prefix="rrc-", dir="/tmp"))  # short: Ray's socket paths are limited
    holder = None
    if _netns_available():
        holder = subprocess.Popen(["unshare", "--net", "sh", "-c", "ip link set lo up 2>/dev/null; exec sleep 100000"],
                                  start_new_session=True)
        time.sleep(0.5)
        gcs, dash = 6379, 8265  # the namespace is ours alone: the usual ports are free there
    else:
        gcs, dash = free_port(), free_port()
    cluster = LocalCluster(temp_dir=base / f"t{uuid.uuid4().hex[:6]}", gcs_port=gcs, dashboard_port=dash,
                           netns_holder=holder)
    cluster.temp_dir.mkdir()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)
