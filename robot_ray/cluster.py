"""Connecting to Ray: a local instance bound to loopback, or an existing cluster by address.

Nothing here binds a non-loopback address: the local default runs no dashboard, and a cluster
is reached by the address its head prints (tunnel to it rather than exposing ports).
"""

from __future__ import annotations

import logging
import os

import ray

from robot_ray.errors import RobotRayError

logger = logging.getLogger(__name__)


def connect(*, address: str | None = None, num_cpus: int | None = None, num_gpus: int | None = None) -> None:
    """``ray.init`` once: join ``address`` (or ``$RAY_ADDRESS``) if given, else start a local Ray.

    Raises:
        RobotRayError: the cluster at ``address`` does not answer.
    """
    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address:
        try:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
        except (ConnectionError, TimeoutError, RuntimeError, ValueError) as exc:
            raise RobotRayError(
                f"cannot connect to the Ray cluster at {address!r} ({exc}): check that `ray start --head` "
                "runs there and the address (or an SSH tunnel to it) is reachable"
            ) from exc
        return
    ray.init(
        num_cpus=num_cpus,
        num_gpus=num_gpus,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        _node_ip_address="127.0.0.1",
    )
