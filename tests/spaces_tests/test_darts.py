"""DARTS space: parsing, canonical form, hashes, codes, sampling, NB301 benchmark."""

from __future__ import annotations

import ast

import numpy as np
import pandas as pd
import pytest

from robot_ray.errors import RobotRayError
from robot_ray.spaces import darts

V2 = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], "
    "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"
)


@pytest.fixture(scope="module")
def nb301(data_dir) -> pd.DataFrame:
    return pd.read_parquet(data_dir / "darts_nb301" / "benchmark.parquet")


def test_round_trip_all_nb301(nb301):
    for text, naslib in zip(nb301["genotype"], nb301["naslib_arch"]):
        g = darts.parse_genotype(text)
        assert str(g) == text
        assert darts.parse_genotype(darts.canonical(text)) == darts.canonical_genotype(text)
        assert darts.from_hash(darts.arch_hash(text)) == darts.canonical_genotype(text)
        # our compact code is NASLib's [(input, op)] * 8 per cell, up to the canonical order
        raw = np.array([v for cell in ast.literal_eval(naslib) for edge in cell for v in edge], dtype=np.int8)
        assert (darts.canonicalize_codes(raw[None])[0] == darts.encode(text)).all()
    assert len({darts.arch_hash(t) for t in nb301["genotype"]}) == len(nb301)


def test_range_concat_and_whitespace_accepted():
    text = V2.replace("[2, 3, 4, 5]", "range(2, 6)").replace(", ", " ,  ")
    assert darts.canonical(text) == darts.canonical(V2)


def test_canonical_merges_reordered_pairs():
    g = darts.parse_genotype(V2)
    swapped = darts.Genotype(
        normal=tuple(e for k in range(4) for e in reversed(g.normal[2 * k : 2 * k + 2])),
        reduce=g.reduce[:4] + g.reduce[6:] + g.reduce[4:6],  # swapping nodes 4 and 5 is NOT equivalent
    )
    assert darts.canonical(swapped) != darts.canonical(V2)
    swapped = darts.Genotype(normal=swapped.normal, reduce=g.reduce)
    assert str(swapped) != V2
    assert darts.canonical(swapped) == darts.canonical(V2)
    assert darts.arch_hash(swapped) == darts.arch_hash(V2)
    assert (darts.encode(swapped) == darts.encode(V2)).all()


def test_codes_frame_round_trip():
    codes = darts.sample_codes(np.random.default_rng(3), 50)
    frame = darts.codes_to_frame(codes, start_id=10)
    assert frame["arch_id"].tolist() == list(range(10, 60))
    assert (darts.codes_from_frame(frame) == codes).all()
    assert frame["arch_hash"].tolist() == [darts.arch_hash(darts.decode(c)) for c in codes]


def test_sampler_distinct_seed_stable_prefix():
    a = darts.sample_codes(np.random.default_rng(7), 5000)
    b = darts.sample_codes(np.random.default_rng(7), 5000)
    c = darts.sample_codes(np.random.default_rng(8), 5000)
    ha, hb, hc = darts.codes_hashes(a), darts.codes_hashes(b), darts.codes_hashes(c)
    assert len(set(ha)) == 5000
    assert (ha == hb).all() and not (ha == hc).all()
    assert (darts.sample_codes(np.random.default_rng(7), 100) == a[:100]).all()
    assert (darts.canonicalize_codes(a) == a).all()
    for code in a[:50]:  # every sample is a valid genotype with distinct inputs per node
        g = darts.decode(code)
        for cell in (g.normal, g.reduce):
            assert all(cell[2 * k][1] != cell[2 * k + 1][1] for k in range(4))
    strings = darts.sample(np.random.default_rng(7), 3)
    assert strings == [darts.canonical(s) for s in strings]


def test_sampler_is_uniform_over_ops_and_inputs():
    codes = darts.sample_codes(np.random.default_rng(0), 20000).reshape(-1, 2, 4, 2, 2)
    ops = np.bincount(codes[..., 1].ravel(), minlength=7) / codes[..., 1].size
    assert np.allclose(ops, 1 / 7, atol=0.01)
    last = codes[:, :, 3, :, 0].ravel()  # node 5 takes inputs 0..4, each with probability 2/5 per pair
    assert np.allclose(np.bincount(last, minlength=5) / len(last), 1 / 5, atol=0.01)


@pytest.mark.parametrize(
    "text, message",
    [
        (V2.replace("dil_conv_3x3", "conv_7x7"), "unknown op 'conv_7x7'"),
        (V2.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 5)"), "input index 5 out of range"),
        (V2.replace("('sep_conv_3x3', 1), ('skip_connect', 0)", "('skip_connect', 0)"), "wrong edge count"),
        (V2.replace("('dil_conv_3x3', 2)]", "('dil_conv_3x3', 2), ('skip_connect', 0)]"), "has 9 edges"),
        (V2.replace("('max_pool_3x3', 0)", "('none', 0)", 1), "unknown op 'none'"),
        (V2[:-1], "malformed"),
        (V2.replace("Genotype", "__import__('os').system"), "malformed"),
        (V2.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=[2, 3]"), "normal_concat"),
        ("Genotype(normal=[], reduce=[])", "missing normal_concat"),
        (V2.replace("0)", "0; 1)", 1), "unexpected character ';'"),
    ],
)
def test_invalid_genotypes(text, message):
    with pytest.raises(RobotRayError, match=message.replace("(", r"\(")):
        darts.parse_genotype(text)


def test_nb301_benchmark(data_dir, nb301):
    from robot_ray.benchmarks import get_benchmark
    from robot_ray.benchmarks.nb301 import PUBLISHED_METRICS, metric_table
    from robot_ray.metrics.matrix import read_metric_table

    bench = get_benchmark("darts", "cifar10", data_dir)
    assert bench.num_archs == 725
    assert bench.arch_id(nb301["genotype"][17]) == 17
    q = bench.query(17)
    assert q.value == q.test_value == nb301["val_acc_surrogate"][17] and np.isnan(q.cost)
    with pytest.raises(RobotRayError, match="cifar10"):
        get_benchmark("darts", "cifar100", data_dir)
    table = metric_table(data_dir)
    assert list(table.columns) == ["arch_id", "arch", *PUBLISHED_METRICS]
    matrix = read_metric_table(table, list(PUBLISHED_METRICS), num_archs=725)
    assert matrix.values.shape == (725, 12)
