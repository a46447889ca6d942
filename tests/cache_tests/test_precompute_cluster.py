"""Multi-node: actors pinned to two worker nodes by a custom resource; one node is lost mid-run."""

from __future__ import annotations

import pytest

import json
import threading
import time

from cache_helpers import assert_matches, config

from robot_ray.cache import read_cache_table
from robot_ray.precompute import ShardWorker, run_precompute

SLOT = "precompute_slot"


@pytest.mark.slow
def test_lost_worker_node_loses_nothing(tmp_path, data_dir, reference):
    import ray
    from ray.cluster_utils import Cluster

    class SlowWorker(ShardWorker):  # defined here so Ray ships it by value to the worker nodes
        """A shard takes at least 1 s, so both nodes are busy when one of them goes away."""

        def compute(self, index, archs):
            time.sleep(1.0)
            return super().compute(index, archs)

    if ray.is_initialized():
        ray.shutdown()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    workers = [cluster.add_node(num_cpus=1, resources={SLOT: 1}) for _ in range(2)]
    out = tmp_path / "c"
    result: dict = {}
    try:
        ray.init(address=cluster.address, log_to_driver=False, configure_logging=False)
        cfg = config(out, data_dir, archs="0-15", shard_size=2, num_actors=2, actor_resources={SLOT: 1})
        thread = threading.Thread(target=lambda: result.update(report=run_precompute(cfg, worker_cls=SlowWorker)))
        thread.start()
        deadline = time.monotonic() + 600  # a hang guard, not a speed check: actors start slowly on busy machines
        while len(list(out.glob("shard-*.parquet"))) < 3:
            assert thread.is_alive() and time.monotonic() < deadline, "the run ended or stalled before 3 shards"
            time.sleep(0.1)
        cluster.remove_node(workers[1])
        thread.join(timeout=600)
        assert not thread.is_alive(), "the run did not finish after losing a node"
    finally:
        ray.shutdown()
        cluster.shutdown()
    report = result["report"]
    assert report.failures >= 1 and report.computed == 16
    assert_matches(read_cache_table(out), reference, range(16))
    nodes = {s["node_id"] for s in json.loads((out / "_manifest.json").read_text())["shards"]}
    assert nodes == {w.node_id for w in workers}  # spread over both workers, never on the head
