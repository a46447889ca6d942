"""Shared fixtures: the real data directory (../shared/data or $ROBOT_RAY_DATA) and a small Ray."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _find_data_dir() -> Path | None:
    env = os.environ.get("ROBOT_RAY_DATA")
    for cand in ([Path(env)] if env else []) + [REPO.parent / "shared" / "data"]:
        if (cand / "nasbench201" / "benchmark.parquet").is_file():
            return cand
    return None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = _find_data_dir()
    if path is None:
        pytest.fail("shared data not found: set ROBOT_RAY_DATA or place it at ../shared/data")
    return path


@pytest.fixture
def torch_one_thread():
    """Run a test with one torch thread (small networks gain nothing from more on 2 cores), then restore."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def ray_session():
    """A local Ray (2 CPUs, loopback only), started on first use and shared by later tests.

    Function-scoped on purpose: tests that need a Ray of their own (clusters) shut the shared
    one down, and the next test that asks for it gets a fresh one.
    """
    import ray

    if not ray.is_initialized():
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
                 _node_ip_address="127.0.0.1")
    yield ray


def pytest_sessionfinish(session, exitstatus):
    import sys

    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        ray.shutdown()
