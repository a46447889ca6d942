"""Fixtures of the cache tests: one reference table, a module-scoped local Ray."""

from __future__ import annotations

import pandas as pd
import pytest
from cache_helpers import BATCH, METRICS, REF_IDS, SIZE


@pytest.fixture(scope="session")
def reference(data_dir) -> pd.DataFrame:
    """compute_archs on archs 0..15 in this process: what every cache must equal."""
    from robot_ray.metrics.compute import compute_archs
    from robot_ray.benchmarks.nb201 import official_arch_strings

    archs = list(official_arch_strings(str(data_dir))[:REF_IDS])
    return compute_archs("nb201", archs, dataset="cifar10", metrics=METRICS, batch_size=BATCH, seed=0,
                         data_dir=data_dir, **SIZE)


@pytest.fixture(scope="module")
def local_ray():
    """A 2-CPU local Ray for one module (the cluster test needs Ray down between modules)."""
    import ray

    started = not ray.is_initialized()
    if started:
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    if started:
        ray.shutdown()
