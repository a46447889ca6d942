"""Connecting to Ray: a local instance, or an existing cluster by address.

A locally started Ray listens on loopback only: every port of its GCS, raylet (node and object
manager), dashboard agent, runtime-env agent, monitor and workers is bound to 127.0.0.1, it
starts no dashboard (no HTTP or Jobs port at all) and no Prometheus metrics export unless asked
(``connect(metrics_export=True)`` or ``$RAY_enable_metrics_collection=1``; that port is on
loopback too). ``tests/cluster_tests/test_loopback.py`` checks every listening socket of the
process tree. Joining a cluster by address changes none of that cluster's settings: there the
firewall / security group keeps the ports private (``cluster.yaml`` opens none of them) and a
remote cluster is reached through an SSH tunnel (``ray dashboard cluster.yaml``).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
from collections.abc import Mapping

import ray

from robot_ray.errors import RobotRayError

logger = logging.getLogger(__name__)


def connect(*, address: str | None = None, num_cpus: int | None = None, num_gpus: int | None = None,
            metrics_export: bool = False) -> None:
    """``ray.init`` once: join ``address`` (or ``$RAY_ADDRESS``) if given, else start a local Ray.

    Args:
        address: a cluster to join; None (and no ``$RAY_ADDRESS``) starts a local Ray that
            listens on 127.0.0.1 only.
        num_cpus, num_gpus: the local Ray's resources (default: the machine's).
        metrics_export: the local Ray's Prometheus metrics endpoint (on 127.0.0.1); off by
            default. ``$RAY_enable_metrics_collection``, where set, decides instead.

    Raises:
        RobotRayError: the cluster at ``address`` does not answer.
    """
    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address:
        _probe(address)
        try:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
        except (ConnectionError, TimeoutError, RuntimeError, ValueError) as exc:
            raise RobotRayError(
                f"cannot connect to the Ray cluster at {address!r} ({' '.join(str(exc).split())}): check that "
                "`ray start --head` "
                "runs there and the address (or an SSH tunnel to it) is reachable"
            ) from exc
        return
    system_config = {}
    if "RAY_enable_metrics_collection" not in os.environ:
        system_config["enable_metrics_collection"] = bool(metrics_export)
    with _loopback_node_address(), _quiet_token_notice():
        ray.init(
            # "local": always a new instance; without it ray.init() silently joins any cluster a
            # `ray start` left running on this machine, with that cluster's resources
            address="local",
            num_cpus=num_cpus,
            num_gpus=num_gpus,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
            _node_ip_address="127.0.0.1",
            _system_config=system_config or None,
        )
    _warn_unless_loopback()


@contextlib.contextmanager
def _quiet_token_notice():
    """Keep Ray 2.60's "Token authentication is enabled for this Ray cluster" notice off stderr.

    Why: a new local Ray turns token authentication on by default (it stays on) and says so on
    every start; the CLI promises one line on stderr for an error found once Ray is up, and this
    notice made it two. Only that logger, only during ``ray.init``.
    """
    log = logging.getLogger("ray._private.authentication.authentication_token_setup")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


@contextlib.contextmanager
def _loopback_node_address():
    """Keep ``_node_ip_address="127.0.0.1"`` the node address while ``ray.init`` starts a local Ray.

    Why: Ray 2.60 rewrites a loopback node address to this machine's IP
    (``ray._private.services.resolve_ip_for_localhost``) unless its ``ENABLE_RAY_CLUSTER``
    constant is off (``$RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, read once at import, which is
    what Ray does on macOS and Windows). GCS, raylet and every core worker bind 127.0.0.1 only
    when the node address is 127.0.0.1, else all interfaces; the dashboard and runtime-env
    agents bind the node address. So the constant is off for this one call and restored after,
    and a later join of a real cluster in the same process is not affected.
    """
    try:
        from ray._private import ray_constants  # private: the switch Ray reads in get_node_ip_address
    except ImportError:  # pragma: no cover - another Ray layout; _warn_unless_loopback says so
        yield
        return
    previous = getattr(ray_constants, "ENABLE_RAY_CLUSTER", None)
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = previous


def _warn_unless_loopback() -> None:
    """Say so when a local Ray came up on a non-loopback node address (another Ray version)."""
    try:
        node_ip = ray.util.get_node_ip_address()
    except Exception:  # noqa: BLE001 - a diagnostic only
        return
    if node_ip not in ("127.0.0.1", "::1"):
        logger.warning(
            "the local Ray runs on node address %s, not 127.0.0.1: its GCS and raylet ports listen on all "
            "interfaces; keep them behind a firewall (docs/security.md)", node_ip,
        )


PROBE_TIMEOUT_S = 5.0


def _probe(address: str, timeout: float = PROBE_TIMEOUT_S) -> None:
    """Fail in seconds when nothing listens at a ``host:port`` address.

    Why: ``ray.init(address=...)`` retries a dead GCS for minutes before it gives up. Only
    plain ``host:port`` addresses are probed (``auto``, ``local`` and ``ray://`` are left to
    Ray). Ray itself rewrites a loopback host to this node's IP, so both are tried.

    Raises:
        RobotRayError: neither answers within ``timeout`` seconds.
    """
    if "://" in address or address in ("auto", "local"):
        return
    host, sep, port_text = address.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit():
        raise RobotRayError(f"malformed Ray address {address!r}: use HOST:PORT, e.g. 127.0.0.1:6379, or 'auto'")
    hosts = [host]
    try:
        from ray._private.services import resolve_ip_for_localhost  # private: how Ray itself resolves it

        hosts.append(resolve_ip_for_localhost(host))
    except Exception:  # noqa: BLE001 - the probe is best effort; ray.init reports the rest
        pass
    errors = []
    for candidate in dict.fromkeys(hosts):
        try:
            with socket.create_connection((candidate, int(port_text)), timeout=timeout) as sock:
                if _tls_expected() or _answers_http2(sock, timeout):
                    return
        except OSError as exc:
            errors.append(f"{candidate}: {exc.strerror or exc}")
            continue
        raise RobotRayError(
            f"something answers at {address!r}, but not a Ray cluster (no gRPC reply from its GCS): check the "
            "port (the head's GCS port, 6379 by default, as `ray start --head` prints it)"
        )
    raise RobotRayError(
        f"no Ray cluster answers at {address!r} ({'; '.join(errors)}): check that `ray start --head` "
        "runs there and the address (or an SSH tunnel to it) is reachable"
    )


_HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])  # + empty SETTINGS
"""What an HTTP/2 client sends first: a gRPC server (Ray's GCS) answers with a SETTINGS frame."""


def _answers_http2(sock: socket.socket, timeout: float) -> bool:
    """Whether the server behind ``sock`` answers the HTTP/2 preface with a SETTINGS frame.

    Why: a port that accepts TCP but is no Ray GCS (another service, a wrong port) made
    ``ray.init`` print ~20 lines of C++ log and fail after ~20 s; this tells in milliseconds.
    """
    sock.settimeout(timeout)
    try:
        sock.sendall(_HTTP2_PREFACE)
        head = b""
        while len(head) < 9:
            chunk = sock.recv(9 - len(head))
            if not chunk:
                return False
            head += chunk
    except OSError:
        return False
    return head[3] == 0x04  # frame type SETTINGS


def _tls_expected() -> bool:
    """A cluster with Ray's TLS on answers the preface with a TLS alert: the gRPC check is skipped."""
    return os.environ.get("RAY_USE_TLS", "0").strip().lower() in ("1", "true")


def check_request_fits(request: Mapping[str, float], *, what: str, flags: str) -> None:
    """Refuse a per-task resource request that no node of the connected cluster can ever meet.

    Why: Ray and Tune keep such a request pending forever (``--trial-cpus 64`` on a 2-CPU
    machine, ``--trial-gpus 1`` without a GPU) instead of failing. A task runs on one node, so
    the request must fit one alive node's resources. The cluster is what it is now: on an
    autoscaling cluster, start the larger nodes first.

    Args:
        request: resources per task, Tune's spelling (``{"cpu": 2, "gpu": 0.5}``) or Ray's
            (``{"CPU": 2}``); other keys are custom resources.
        what: names the task in the message (``"each Tune trial"``).
        flags: the flags that set the request, for the fix (``"--trial-cpus/--trial-gpus"``).

    Raises:
        RobotRayError: no node has that much, naming the request and what the cluster has.
    """
    import ray

    want = {_RAY_NAMES.get(k, k): float(v) for k, v in request.items() if v}
    if not want:
        return
    nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
    if any(all(node.get(k, 0.0) + 1e-9 >= v for k, v in want.items()) for node in nodes):
        return
    total = ray.cluster_resources()
    asked = ", ".join(f"{_fmt(v)} {k}" for k, v in want.items())
    has = ", ".join(f"{_fmt(total.get(k, 0.0))} {k}" for k in dict.fromkeys(["CPU", "GPU", *want]))
    largest = max(nodes, key=lambda n: n.get("CPU", 0.0), default={})
    node = ", ".join(f"{_fmt(largest.get(k, 0.0))} {k}" for k in want)
    raise RobotRayError(
        f"{what} asks for {asked}, but no node of the Ray cluster has that much (the cluster has {has} in "
        f"{len(nodes)} node(s); the largest node {node}): it would wait forever; lower {flags} or add a node "
        "that has it (for a local Ray, --num-cpus sets its CPUs)"
    )


_RAY_NAMES = {"cpu": "CPU", "gpu": "GPU", "memory": "memory"}


def _fmt(x: float) -> str:
    return f"{x:g}" if math.isfinite(x) else str(x)
