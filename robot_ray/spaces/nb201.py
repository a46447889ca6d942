"""NAS-Bench-201: 5 ops on 6 edges, 15,625 cells, ids in the benchmark's official order.

Official ids come from the benchmark table (``nasbench201/benchmark.parquet``, read by
:func:`robot_ray.benchmarks.nb201.official_arch_strings`: spaces sit below benchmarks and never
read their tables); without a data directory the space still parses, formats, samples and
builds cells, using the product index (edge ops as base-5 digits) only where no official id exists.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from robot_ray.errors import RobotRayError
from robot_ray.spaces import cell as cell_lib
from robot_ray.spaces.cell import EDGES, format_cell, is_connected, parse_cell

NAME = "nb201"
OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
NUM_ARCHS = len(OPS) ** len(EDGES)


def parse_arch(arch: str) -> tuple[str, ...]:
    """Six op names of an NB201 cell string (see :mod:`robot_ray.spaces.cell`)."""
    return parse_cell(arch, OPS, space=NAME)


def format_arch(cell: Sequence[str]) -> str:
    """NB201 cell string of six op names."""
    for op in cell:
        if op not in OPS:
            raise RobotRayError(f"unknown NB201 op {op!r}; known ops: {', '.join(OPS)}")
    return format_cell(cell)


def canonical(arch: str) -> str:
    """The canonical string of an NB201 cell (whitespace stripped, validated)."""
    return format_arch(parse_arch(arch))


def product_index(cell: Sequence[str]) -> int:
    """Position of a cell in the product enumeration (edge ops as base-5 digits, edge 0 first)."""
    return cell_lib.product_index(cell, OPS)


def from_product_index(index: int) -> tuple[str, ...]:
    """Inverse of :func:`product_index`."""
    return cell_lib.from_product_index(index, OPS, space=NAME)


def connected(arch: str) -> bool:
    """Whether the cell has an input-to-output path (disconnected cells train to chance)."""
    return is_connected(parse_arch(arch))


def sample_cells(rng: np.random.Generator, n: int) -> list[tuple[str, ...]]:
    """``n`` distinct cells drawn uniformly without replacement."""
    return cell_lib.sample_cells(rng, n, OPS, space=NAME)
