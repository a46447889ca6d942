"""TransNAS-Bench-101-micro: encoding, benchmark, encoder params / MACs, metric table (real data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from robot_ray.benchmarks import get_benchmark
from robot_ray.benchmarks.tnb101 import TASKS, load, load_table, official_arch_strings, value_ranks
from robot_ray.errors import RobotRayError
from robot_ray.metrics.matrix import read_metric_table
from robot_ray.metrics.tnb101_table import build_metric_table, metric_table, params_flops, published_metrics
from robot_ray.networks.tnb101 import TNB101MicroEncoder, cost_table, count_cell
from robot_ray.spaces import tnb101
from robot_ray.spaces.cell import EDGES, is_connected

NONE, SKIP, C1, C3 = tnb101.OPS


@pytest.fixture(scope="module")
def table(data_dir) -> pd.DataFrame:
    return load_table(data_dir)


@pytest.fixture(scope="module")
def scene(table) -> pd.DataFrame:
    return table[table["task"] == "class_scene"].sort_values("arch_index").reset_index(drop=True)


# ---------------------------------------------------------------- encoding


def test_round_trip_all_cells_against_official_strings(scene):
    for official, ours, op_tuple in zip(scene["tnb_arch_str"], scene["arch_str"], scene["op_tuple"]):
        cell = tnb101.parse_arch(official)
        assert tnb101.format_arch(cell) == ours
        assert tnb101.parse_arch(ours) == cell
        assert tnb101.to_tnb_string(ours) == official
        assert tnb101.canonical(official) == ours
        assert tnb101.op_digits(cell) == tuple(int(d) for d in op_tuple.strip("()").split(","))
        assert tnb101.from_product_index(tnb101.product_index(cell)) == cell
    assert len({tnb101.product_index(tnb101.parse_arch(a)) for a in scene["arch_str"]}) == tnb101.NUM_ARCHS


def test_digit_order_is_cell_edge_order():
    # a_bc_def: node 1 <- 0; node 2 <- 0, 1; node 3 <- 0, 1, 2
    cell = tnb101.parse_arch("64-41414-3_12_012")
    assert dict(zip(EDGES, cell)) == {(0, 1): C3, (0, 2): SKIP, (1, 2): C1, (0, 3): NONE, (1, 3): SKIP, (2, 3): C1}


def test_official_strings_from_table(data_dir, scene):
    assert official_arch_strings(str(data_dir)) == tuple(scene["arch_str"])


@pytest.mark.parametrize(
    "bad",
    [
        "64-41414-4_32_323",  # digit 4
        "64-41414-1_1_1111",  # wrong group sizes
        "64-41414-111111",
        "64-4141-1_11_111",  # macro space prefix
        "32-41414-1_11_111",
        "1_11_111",
        "",
        "|none~0|+|none~0|none~1|+|none~0|none~1|avg_pool_3x3~2|",  # NB201-only op
        "|none~0|+|none~0|none~1|+|none~0|none~1|",
    ],
)
def test_malformed_strings_raise(bad):
    with pytest.raises(RobotRayError):
        tnb101.parse_arch(bad)


def test_non_string_raises():
    with pytest.raises(RobotRayError, match="must be a string"):
        tnb101.parse_arch(123)  # type: ignore[arg-type]


def test_sample_cells_distinct_and_seeded():
    a = tnb101.sample_cells(np.random.default_rng(0), 50)
    assert len(set(a)) == 50
    assert a == tnb101.sample_cells(np.random.default_rng(0), 50)


# ---------------------------------------------------------------- disconnected cells


def test_exactly_169_disconnected_cells_match_zen_sentinel(table, scene):
    disconnected = np.array([not tnb101.connected(a) for a in scene["tnb_arch_str"]])
    assert disconnected.sum() == 169
    for task in TASKS:
        rows = table[table["task"] == task].sort_values("arch_index")
        np.testing.assert_array_equal(rows["zen"].to_numpy() == -1e8, disconnected)
    # they train to chance: all equal and the worst class_scene value
    vals = scene["val_metric"].to_numpy()
    assert np.all(vals[disconnected] == vals.min())
    assert np.all(vals[~disconnected] > vals.min())


def test_naslib_nb201_edge_order_would_not_match(scene):
    """Reading the digits in NASLib's NB201 tuple order (e01, e02, e03, e12, e13, e23) is wrong."""
    wrong_edges = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
    sentinel = scene["zen"].to_numpy() == -1e8
    wrong = []
    for a in scene["tnb_arch_str"]:
        ops = tnb101.parse_arch(a)
        reach = {0}
        for (src, dst), op in sorted(zip(wrong_edges, ops), key=lambda e: e[0][1]):
            if op != NONE and src in reach:
                reach.add(dst)
        wrong.append(3 not in reach)
    assert not np.array_equal(np.array(wrong), sentinel)


# ---------------------------------------------------------------- benchmark


def test_benchmark_values_and_lookup(data_dir, scene):
    b = get_benchmark("tnb101_micro", "class_scene", data_dir)
    assert b.num_archs == 4096 and b.dataset == "class_scene" and b.value_name == "valid_top1"
    np.testing.assert_array_equal(b.values, scene["val_metric"].to_numpy())
    np.testing.assert_array_equal(b.test_values, b.values)
    assert np.isnan(b.costs).all()
    i = 1234
    assert b.arch(i) == scene["arch_str"][i]
    assert b.arch_id(scene["tnb_arch_str"][i]) == i == b.arch_id(scene["arch_str"][i])
    q = b.query(i)
    assert q.value == q.test_value == scene["val_metric"][i]


def test_room_layout_is_negative_loss(data_dir):
    b = load(data_dir, "layout")
    assert b.dataset == "room_layout" and b.value_name == "valid_neg_loss"
    assert (b.values < 0).all()


def test_unknown_task_lists_tasks(data_dir):
    with pytest.raises(RobotRayError, match="class_scene, class_object, room_layout, jigsaw"):
        load(data_dir, "depth")


def test_ranks_with_ties(data_dir):
    b = load(data_dir, "class_scene")
    disconnected = [i for i, a in enumerate(b.archs) if not is_connected(tnb101.parse_arch(a))]
    # 169 tied worst cells share the best rank of the tie: 1 + (4096 - 169) strictly better
    assert {b.value_rank(i) for i in disconnected} == {4096 - 169 + 1}
    assert b.value_rank(int(np.argmax(b.values))) == 1
    ranks = value_ranks(b.values)
    assert all(ranks[i] == b.value_rank(i) for i in range(0, 4096, 7))
    np.testing.assert_array_equal(value_ranks(np.array([3.0, 5.0, 5.0, 1.0, 3.0])), [3, 1, 1, 5, 3])


# ---------------------------------------------------------------- params / MACs

STEM_PARAMS = 3 * 32 * 9 + 2 * 32 + 32 * 64 * 9 + 2 * 64
STEM_MACS = 112 * 112 * 32 * 3 * 9 + 56 * 56 * 64 * 32 * 9
# (c_in, c_out, output side) of the 10 cells of 64-41414 at 224 x 224 input
CELLS = [(64, 128, 28), (128, 128, 28), (128, 128, 28), (128, 128, 28), (128, 256, 14),
         (256, 256, 14), (256, 256, 14), (256, 256, 14), (256, 512, 7), (512, 512, 7)]  # fmt: skip


def conv_edge(k: int, from_input: bool) -> tuple[int, int]:
    """Hand count of a ReLU-conv-BN edge summed over the 10 cells."""
    p = m = 0
    for c_in, c_out, side in CELLS:
        ci = c_in if from_input else c_out
        p += ci * c_out * k * k + 2 * c_out
        m += ci * c_out * k * k * side * side
    return p, m


def skip_edge_from_input() -> tuple[int, int]:
    """Hand count of a factorized-reduce skip (only where a cell changes width and stride)."""
    p = m = 0
    for c_in, c_out, side in CELLS:
        if c_in != c_out:
            p += c_in * c_out + 2 * c_out
            m += c_in * c_out * side * side
    return p, m


@pytest.mark.parametrize(
    "cell, expected",
    [
        ((NONE,) * 6, (STEM_PARAMS, STEM_MACS)),
        ((SKIP,) * 6, tuple(STEM + 3 * s for STEM, s in zip((STEM_PARAMS, STEM_MACS), skip_edge_from_input()))),
        ((NONE, NONE, C3, NONE, NONE, NONE), tuple(a + b for a, b in zip((STEM_PARAMS, STEM_MACS), conv_edge(3, False)))),
        ((C3, NONE, NONE, NONE, NONE, NONE), tuple(a + b for a, b in zip((STEM_PARAMS, STEM_MACS), conv_edge(3, True)))),
        ((NONE, NONE, NONE, C1, NONE, NONE), tuple(a + b for a, b in zip((STEM_PARAMS, STEM_MACS), conv_edge(1, True)))),
        ((NONE, NONE, NONE, NONE, NONE, C1), tuple(a + b for a, b in zip((STEM_PARAMS, STEM_MACS), conv_edge(1, False)))),
    ],
    ids=["all-none", "all-skip", "3x3-e12", "3x3-e01", "1x1-e03", "1x1-e23"],
)
def test_params_macs_hand_counts(cell, expected):
    assert count_cell(cell) == expected
    p, m = params_flops([tnb101.format_arch(cell)])
    assert (int(p[0]), int(m[0])) == expected


def test_edge_sums_equal_whole_network_counts():
    rng = np.random.default_rng(7)
    cells = tnb101.sample_cells(rng, 6) + [(C3,) * 6, (SKIP, C1, C3, C3, C1, SKIP)]
    p, m = params_flops([tnb101.format_tnb_string(c) for c in cells])
    for cell, pi, mi in zip(cells, p, m):
        assert count_cell(cell) == (pi, mi)


def test_least_squares_matches_readme_hint(scene):
    """README: a fit of NASLib's params on op counts gives ~6.9 M per 3x3 and ~0.8 M per 1x1 edge."""
    archs = list(scene["tnb_arch_str"])
    p, _ = params_flops(archs)
    digits = np.array([tnb101.op_digits(tnb101.parse_arch(a)) for a in archs])
    counts = np.stack([np.ones(len(archs))] + [(digits == k).sum(axis=1) for k in (1, 2, 3)], axis=1)
    coef = np.linalg.lstsq(counts, p.astype(float), rcond=None)[0]
    assert coef[3] == pytest.approx(6.9e6, rel=0.01)
    assert coef[2] == pytest.approx(0.77e6, rel=0.01)


def test_encoder_runs_on_real_tensors():
    net = TNB101MicroEncoder("64-41414-3_13_302", base_channels=8)  # narrow: fast on CPU
    out = net(torch.randn(2, 3, 64, 64))
    assert out.shape == (2, 64, 2, 2)
    head = TNB101MicroEncoder((SKIP,) * 6, base_channels=8, num_classes=5)(torch.randn(2, 3, 32, 32))
    assert head.shape == (2, 5)


def test_cost_table_is_cached_and_read_only():
    t = cost_table()
    assert cost_table() is t
    with pytest.raises(ValueError):
        t.edge_params[0, 0] = 1


# ---------------------------------------------------------------- metric table


def test_published_metrics_per_task(data_dir):
    assert published_metrics(data_dir, "class_object") == ("zen", "synflow", "epe_nas", "fisher")
    assert published_metrics(data_dir, "jigsaw") == ("zen", "synflow", "epe_nas", "fisher")
    assert published_metrics(data_dir, "room_layout") == ("zen", "synflow", "epe_nas")
    assert published_metrics(data_dir, "normal") == ("zen",)


def test_build_metric_table(data_dir, tmp_path, scene):
    path = build_metric_table(data_dir, "class_scene", tmp_path / "m" / "scene.parquet")
    df = pd.read_parquet(path)
    assert list(df.columns) == ["arch_id", "arch", "zen", "synflow", "epe_nas", "params", "flops"]
    np.testing.assert_array_equal(df["arch_id"], np.arange(4096))
    assert list(df["arch"]) == list(scene["arch_str"])
    assert df["params"].min() == STEM_PARAMS
    m = read_metric_table(path, ["zen", "params", "flops"], num_archs=4096)
    assert m.values.shape == (4096, 3)
    assert any("169 NASLib -1e8 sentinels" in n for n in m.notes)
    assert metric_table(data_dir, "normal").columns.tolist() == ["arch_id", "arch", "zen", "params", "flops"]


def test_counts_agree_with_shared_counting_convention():
    """Same numbers as :func:`robot_ray.networks.counting.count` (the project-wide convention)."""
    counting = pytest.importorskip("robot_ray.networks.counting")
    cell = (C3, SKIP, C1, NONE, C3, SKIP)
    with torch.device("meta"):
        model = TNB101MicroEncoder(cell)
    counts = counting.count(model, (3, 224, 224))
    assert (counts.params, counts.flops) == count_cell(cell)


def test_builder_contract():
    from robot_ray.networks.tnb101 import build

    net = build("64-41414-3_13_302", 7, channels=8)
    x = torch.randn(2, 3, 64, 64)
    assert net(x).shape == (2, 7)
    assert net.forward_features(x).shape == (2, 64, 2, 2)
