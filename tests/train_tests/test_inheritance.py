"""Weight inheritance: what a child copies from its parent, the weight store, LiveObjective with a parent."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from robot_ray.errors import RobotRayError
from robot_ray.spaces import darts
from robot_ray.train import LiveObjective, WeightStore, inherit_weights
from robot_ray.train import loop

PARENT = "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|"
CHILD = "|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|avg_pool_3x3~1|nor_conv_1x1~2|"  # 2 ops changed
SIZE = {"channels": 4, "cells": 2}
TINY = {"epochs": 1, "batch_size": 32, "train_subset": 128, "size": {"channels": 4, "cells": 1}}


def _nb201(arch: str, seed: int):
    return loop.build("nb201", arch, 10, seed=seed, device="cpu", size=SIZE)


def test_nb201_child_copies_everything_but_its_changed_edges():
    parent, child = _nb201(PARENT, 1), _nb201(CHILD, 2)
    fresh = {k: v.clone() for k, v in child.state_dict().items()}
    report = inherit_weights(child, CHILD, parent.state_dict(), PARENT, "nb201")
    # non-none edges in order: 0->1 conv3, 0->2 conv1|conv3, 1->2 skip, 1->3 pool, 2->3 conv3|conv1
    changed = {f"cells.{b}.ops.{k}" for b in (0, 1, 3, 4, 6, 7) for k in (1, 4)}
    assert set(report.reinitialised) == changed
    theirs, ours = parent.state_dict(), child.state_dict()
    for name, value in ours.items():
        under_changed = any(name.startswith(p + ".") for p in changed)
        expected = fresh[name] if under_changed else theirs[name]
        assert torch.equal(value, expected), name
    changed_params = sum(p.numel() for n, p in child.named_parameters() if any(n.startswith(c + ".") for c in changed))
    assert report.params_inherited == report.params_total - changed_params
    assert 0.5 < report.fraction < 1.0


def test_same_shapes_under_a_changed_op_are_not_inherited():
    # 3x3 -> 1x1 conv keep the BN shapes, 3x3 -> 3x3 of another cell position is the same identity only
    parent = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|nor_conv_3x3~2|"
    child = "|nor_conv_1x1~0|+|none~0|none~1|+|none~0|none~1|nor_conv_3x3~2|"
    p, c = _nb201(parent, 1), _nb201(child, 2)
    before = {k: v.clone() for k, v in c.state_dict().items()}
    inherit_weights(c, child, p.state_dict(), parent, "nb201")
    bn = "cells.0.ops.0.2.running_var"  # ReLUConvBN's BN: the same shape in both ops
    assert p.state_dict()[bn].shape == c.state_dict()[bn].shape
    for name in ("cells.0.ops.0.2.weight", "cells.0.ops.0.2.bias", "cells.0.ops.0.1.weight"):
        assert torch.equal(c.state_dict()[name], before[name]), name  # the changed edge keeps its own
    assert torch.equal(c.state_dict()["cells.0.ops.1.1.weight"], p.state_dict()["cells.0.ops.1.1.weight"])


def test_darts_op_only_child_inherits_by_edge_identity():
    g = darts.sample(np.random.default_rng(3), 1)[0]
    code = darts.encode(g).astype(np.int64)
    code[1 + 2 * 5] = (code[1 + 2 * 5] + 3) % 7  # normal edge 5's op
    code[16 + 1] = (code[16 + 1] + 1) % 7  # reduce edge 0's op
    child_g = darts.format_genotype(darts.decode(code))
    size = {"channels": 4, "layers": 4}  # cells 0, 3 normal; 1, 2 reduce
    parent = loop.build("darts", g, 10, seed=1, device="cpu", size=size)
    child = loop.build("darts", child_g, 10, seed=2, device="cpu", size=size)
    report = inherit_weights(child, child_g, parent.state_dict(), g, "darts")
    assert set(report.reinitialised) == {"cells.0.ops.5", "cells.3.ops.5", "cells.1.ops.0", "cells.2.ops.0"}
    theirs = parent.state_dict()
    for name, value in child.state_dict().items():
        if not any(name.startswith(p + ".") for p in report.reinitialised):
            assert torch.equal(value, theirs[name]), name


def test_other_topology_inherits_only_matching_edges_and_a_net_of_another_space_is_refused():
    other = "|skip_connect~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|"
    p, c = _nb201(PARENT, 1), _nb201(other, 2)
    report = inherit_weights(c, other, p.state_dict(), PARENT, "nb201")
    assert len(report.reinitialised) == 2 * 6  # no edge of `other` exists in PARENT with its op
    with pytest.raises(RobotRayError, match="DARTS genotype"):
        inherit_weights(c, other, p.state_dict(), PARENT, "darts")
    with pytest.raises(RobotRayError, match="nb201 and darts"):
        inherit_weights(c, other, p.state_dict(), PARENT, "tnb101_micro")


def test_a_parent_of_another_size_is_refused():
    parent = loop.build("nb201", PARENT, 10, seed=1, device="cpu", size={"channels": 8, "cells": 2})
    with pytest.raises(RobotRayError, match="another network size"):
        inherit_weights(_nb201(CHILD, 2), CHILD, parent.state_dict(), PARENT, "nb201")


def test_darts_parent_given_in_another_edge_order_maps_by_edge(tmp_path, data_dir):
    """LiveObjective builds from the canonical genotype, so a kept parent maps edge to edge whatever
    order the caller wrote its edges in (a DARTS node's two edges are unordered)."""
    g = darts.parse_genotype(darts.sample(np.random.default_rng(4), 1)[0])
    swapped = darts.format_genotype(darts.Genotype(normal=(g.normal[1], g.normal[0], *g.normal[2:]), reduce=g.reduce))
    assert darts.canonical(swapped) != swapped
    code = darts.encode(swapped).astype(np.int64)
    code[2 * 7 + 1] = (code[2 * 7 + 1] + 2) % 7  # normal edge 7's op (node 5)
    child = darts.format_genotype(darts.decode(code))
    obj = LiveObjective("darts", [swapped], "cifar10", data_dir=str(data_dir), device="cpu",
                        weights_dir=str(tmp_path), epochs=1, batch_size=32, train_subset=64,
                        size={"channels": 4, "layers": 3})
    obj.query_arch(swapped, lineage="d")
    obj.query_arch(child, parent_arch=swapped, lineage="d")
    kept = WeightStore(str(tmp_path)).load("d", "darts", swapped, obj._identity())
    net = loop.build("darts", darts.canonical(child), 10, seed=0, device="cpu", size={"channels": 4, "layers": 3})
    report = inherit_weights(net, darts.canonical(child), kept, darts.canonical(swapped), "darts")
    assert set(report.reinitialised) == {"cells.0.ops.7"}  # cell 0 is the one normal cell at 3 layers
    for name, value in net.state_dict().items():  # node 2's two edges took their own parent's weights
        if name.startswith(("cells.0.ops.0.", "cells.0.ops.1.")):
            assert torch.equal(value, kept[name]), name


def test_weight_store_round_trip_and_refusals(tmp_path):
    store = WeightStore(str(tmp_path))
    state = _nb201(PARENT, 1).state_dict()
    settings = {"size": SIZE, "seed": 0}
    assert store.load("prenas-seed0", "nb201", PARENT, settings) is None
    uri = store.save("prenas-seed0", "nb201", PARENT, state, settings)
    back = store.load("prenas-seed0", "nb201", PARENT, settings)
    assert back.keys() == state.keys() and all(torch.equal(back[k], state[k]) for k in state)
    assert store.load("prenas-seed1", "nb201", PARENT, settings) is None  # lineages are apart
    with pytest.raises(RobotRayError, match="trained under"):
        store.load("prenas-seed0", "nb201", PARENT, {"size": {"channels": 8, "cells": 2}, "seed": 0})
    with pytest.raises(RobotRayError, match="lineage"):
        store.uri("../etc", "nb201", PARENT)
    with pytest.raises(RobotRayError, match="keeps nb201, darts networks"):
        store.uri("ok", "../../evil", PARENT)
    with open(uri, "wb") as f:
        f.write(b"not a weight file")
    with pytest.raises(RobotRayError, match="not a robot-ray weight file"):
        store.load("prenas-seed0", "nb201", PARENT, settings)


def test_darts_store_key_is_the_canonical_genotype(tmp_path):
    g = darts.sample(np.random.default_rng(0), 1)[0]
    parsed = darts.parse_genotype(g)
    swapped = darts.Genotype(normal=(parsed.normal[1], parsed.normal[0], *parsed.normal[2:]), reduce=parsed.reduce)
    store = WeightStore(str(tmp_path))
    assert store.uri("x", "darts", g) == store.uri("x", "darts", darts.format_genotype(swapped))


def test_live_objective_child_starts_from_its_parent(tmp_path, data_dir):
    obj = LiveObjective("nb201", [PARENT], "cifar10", data_dir=str(data_dir), device="cpu",
                        weights_dir=str(tmp_path), inherit_epochs=2, **TINY)
    obj.query_arch(PARENT, lineage="run")
    assert obj.last_info["inherited_fraction"] == 0.0 and obj.last_info["epochs"] == 1
    child = obj.query_arch(CHILD, parent_arch=PARENT, lineage="run")
    assert 0.5 < obj.last_info["inherited_fraction"] < 1.0 and obj.last_info["epochs"] == 2
    assert 0 <= child.value <= 100
    assert len(list((tmp_path / "run").glob("nb201-*.pt"))) == 2  # both kept for later children
    # a parent whose weights were never kept (its trial failed): the child trains from scratch
    obj.query_arch(CHILD, parent_arch=CHILD.replace("avg_pool_3x3", "skip_connect"), lineage="other")
    assert obj.last_info["inherited_fraction"] == 0.0 and obj.last_info["epochs"] == 1


def test_weight_store_location_is_absolute_and_checked_before_any_training(tmp_path, data_dir, monkeypatch):
    monkeypatch.chdir(tmp_path)
    obj = LiveObjective("nb201", [PARENT], "cifar10", data_dir=str(data_dir), weights_dir="kept", **TINY)
    assert obj.weights_dir == str(tmp_path / "kept")  # trials run in other working directories
    (tmp_path / "file").write_text("x")
    bad = LiveObjective("nb201", [PARENT], "cifar10", data_dir=str(data_dir), weights_dir=str(tmp_path / "file"),
                        **TINY)
    with pytest.raises(RobotRayError, match="is a file"):
        bad.check()


def test_a_parent_without_a_weight_store_is_refused(data_dir):
    obj = LiveObjective("nb201", [PARENT], "cifar10", data_dir=str(data_dir), device="cpu", **TINY)
    with pytest.raises(RobotRayError, match="weights_dir"):
        obj.query_arch(CHILD, parent_arch=PARENT)
    with pytest.raises(RobotRayError, match="inherit_epochs"):
        LiveObjective("nb201", [PARENT], "cifar10", data_dir=str(data_dir), inherit_epochs=0, **TINY)


@pytest.mark.gpu
def test_inheritance_on_cuda_matches_the_cpu_copy(tmp_path, data_dir):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    obj = LiveObjective("nb201", [PARENT], "cifar10", data_dir=str(data_dir), device="cuda",
                        weights_dir=str(tmp_path), **TINY)
    obj.query_arch(PARENT, lineage="gpu")
    obj.query_arch(CHILD, parent_arch=PARENT, lineage="gpu")
    assert 0.5 < obj.last_info["inherited_fraction"] < 1.0 and obj.last_info["device"] == "cuda"
    # the kept CPU weights load into a CUDA child exactly as into a CPU one
    state = WeightStore(str(tmp_path)).load("gpu", "nb201", PARENT, obj._identity())
    on_gpu = loop.build("nb201", CHILD, 10, seed=0, device="cuda", size=TINY["size"])
    on_cpu = loop.build("nb201", CHILD, 10, seed=0, device="cpu", size=TINY["size"])
    a = inherit_weights(on_gpu, CHILD, state, PARENT, "nb201")
    b = inherit_weights(on_cpu, CHILD, state, PARENT, "nb201")
    assert a == b
    for (name, x), (_, y) in zip(on_gpu.state_dict().items(), on_cpu.state_dict().items()):
        assert torch.equal(x.cpu(), y), name
