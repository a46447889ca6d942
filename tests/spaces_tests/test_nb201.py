"""NB201 cell notation on the real benchmark table: all 15,625 strings round-trip."""

from __future__ import annotations

import numpy as np
import pytest

from robot_ray.benchmarks.nb201 import official_arch_strings
from robot_ray.errors import RobotRayError
from robot_ray.spaces import nb201


def test_all_official_strings_round_trip(data_dir):
    archs = official_arch_strings(str(data_dir))
    assert len(archs) == nb201.NUM_ARCHS == 15625
    cells = [nb201.parse_arch(a) for a in archs]
    assert [nb201.format_arch(c) for c in cells] == list(archs)
    # the official order is a permutation of the product enumeration
    assert sorted(nb201.product_index(c) for c in cells) == list(range(nb201.NUM_ARCHS))
    for c in cells[:50]:
        assert nb201.from_product_index(nb201.product_index(c)) == c


def test_disconnected_cells_are_the_chance_level_ones(data_dir):
    from robot_ray.benchmarks import get_benchmark

    bench = get_benchmark("nb201", "cifar10", data_dir)
    disconnected = np.array([not nb201.connected(a) for a in bench.archs])
    assert disconnected.sum() == 341
    assert np.allclose(bench.test_values[disconnected], 10.0)


@pytest.mark.parametrize(
    "bad, fragment",
    [
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|", "3 node blocks"),
        ("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown op 'conv'"),
        ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "must read 'op~0'"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", "needs 2 incoming"),
        ("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "start and end with '|'"),
    ],
)
def test_malformed_strings_name_the_problem(bad, fragment):
    with pytest.raises(RobotRayError, match=fragment.replace("|", r"\|")):
        nb201.parse_arch(bad)


def test_sampling_is_seeded_and_distinct():
    a = nb201.sample_cells(np.random.default_rng(3), 100)
    b = nb201.sample_cells(np.random.default_rng(3), 100)
    assert a == b and len(set(a)) == 100
