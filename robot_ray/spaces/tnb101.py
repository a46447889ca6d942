"""TransNAS-Bench-101 micro (cell) space: 4 ops on 6 edges, 4,096 cells.

Two spellings of one cell are accepted everywhere:

* our canonical NB201-style string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` (see
  :mod:`robot_ray.spaces.cell`), which is what results and metric tables store;
* the official TransNAS-Bench-101 string ``64-41414-a_bc_def`` (what the benchmark and NASLib
  query with): base width 64, macro skeleton ``41414``, then one digit per edge with
  ``0`` none, ``1`` skip_connect, ``2`` nor_conv_1x1, ``3`` nor_conv_3x3.

In ``a_bc_def`` node 1 takes input 0 (a), node 2 takes inputs 0, 1 (b, c) and node 3 takes
inputs 0, 1, 2 (d, e, f), i.e. the digits are edges (0,1), (0,2), (1,2), (0,3), (1,3), (2,3):
exactly the order of :data:`robot_ray.spaces.cell.EDGES`. (NASLib's *NB201* op tuple is
ordered differently, (e01, e02, e03, e12, e13, e23), and uses other op codes; do not mix them.)
The shared table confirms this reading: the 169 cells whose output is unreachable are exactly
the rows at chance level with NASLib's zen sentinel -1e8.

Official ids (0..4095) are row positions of NASLib's ``archs_transbench101_micro.json`` and come
from the benchmark table (read by :func:`robot_ray.benchmarks.tnb101.official_arch_strings`:
spaces sit below benchmarks and never read their tables); without it the space still parses,
formats and samples cells, using the product index (edge digits as base-4 numbers) where no
official id exists.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from robot_ray.errors import RobotRayError
from robot_ray.spaces import cell as cell_lib
from robot_ray.spaces.cell import EDGES, format_cell, is_connected, parse_cell

NAME = "tnb101_micro"
OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3")
"""Op names, indexed by the official digit (0 none, 1 skip, 2 1x1 conv, 3 3x3 conv)."""
NUM_ARCHS = len(OPS) ** len(EDGES)
BASE_CHANNELS = 64
MACRO_CODE = "41414"
TNB_PREFIX = f"{BASE_CHANNELS}-{MACRO_CODE}-"
TNB_EXAMPLE = "64-41414-3_13_302"

_TNB_RE = re.compile(r"^(\d+)-(\d+)-(\S*)$")
_CELL_RE = re.compile(r"^([0-3])_([0-3]{2})_([0-3]{3})$")


def is_tnb_string(arch: str) -> bool:
    """True when ``arch`` is not NB201-style (has no ``|``), so it must be the official form."""
    return isinstance(arch, str) and "|" not in arch


def parse_tnb_string(arch: str) -> tuple[str, ...]:
    """Six op names (edge order of :data:`EDGES`) of an official ``64-41414-a_bc_def`` string.

    Raises:
        RobotRayError: not of that form, another width or macro skeleton, or a digit outside 0..3.
    """
    text = arch.strip()
    m = _TNB_RE.match(text)
    if m is None:
        raise RobotRayError(
            f"malformed TransNAS-Bench-101 micro string {arch!r}: expected the official form "
            f"like {TNB_EXAMPLE!r} or an NB201-style cell string like {format_cell(('nor_conv_3x3',) * 6)!r}"
        )
    width, macro, cell = m.groups()
    if width != str(BASE_CHANNELS) or macro != MACRO_CODE:
        raise RobotRayError(
            f"TransNAS-Bench-101 micro string {arch!r} has prefix {width}-{macro}-; the micro space "
            f"only has {TNB_PREFIX} (other prefixes belong to the macro space)"
        )
    c = _CELL_RE.match(cell)
    if c is None:
        raise RobotRayError(
            f"malformed TransNAS-Bench-101 micro cell {cell!r} in {arch!r}: expected 'a_bc_def' with "
            "1, 2 and 3 digits in 0..3 (0 none, 1 skip_connect, 2 nor_conv_1x1, 3 nor_conv_3x3)"
        )
    return tuple(OPS[int(d)] for d in "".join(c.groups()))


def parse_arch(arch: str) -> tuple[str, ...]:
    """Six op names of a TNB101-micro cell, given either spelling (see the module docstring).

    Raises:
        RobotRayError: malformed string or unknown op.
    """
    if not isinstance(arch, str):
        raise RobotRayError(
            f"{NAME} arch must be a string like {TNB_EXAMPLE!r} or an NB201-style cell string, "
            f"got {type(arch).__name__}"
        )
    if is_tnb_string(arch):
        return parse_tnb_string(arch)
    return parse_cell(arch, OPS, space=NAME)


def _check_ops(cell: Sequence[str]) -> None:
    if len(cell) != len(EDGES):
        raise RobotRayError(f"a {NAME} cell has {len(EDGES)} edges, got {len(cell)} ops: {list(cell)}")
    for op in cell:
        if op not in OPS:
            raise RobotRayError(f"unknown {NAME} op {op!r}; known ops: {', '.join(OPS)}")


def format_arch(cell: Sequence[str]) -> str:
    """Canonical (NB201-style) string of six op names."""
    _check_ops(cell)
    return format_cell(cell)


def format_tnb_string(cell: Sequence[str]) -> str:
    """Official ``64-41414-a_bc_def`` string of six op names."""
    _check_ops(cell)
    d = [str(OPS.index(op)) for op in cell]
    return f"{TNB_PREFIX}{d[0]}_{d[1]}{d[2]}_{d[3]}{d[4]}{d[5]}"


def canonical(arch: str) -> str:
    """The canonical NB201-style string of a cell given in either spelling."""
    return format_arch(parse_arch(arch))


def to_tnb_string(arch: str) -> str:
    """The official ``64-41414-a_bc_def`` string of a cell given in either spelling."""
    return format_tnb_string(parse_arch(arch))


def op_digits(cell: Sequence[str]) -> tuple[int, ...]:
    """Official digits (0..3) of a cell's six ops, in edge order."""
    _check_ops(cell)
    return tuple(OPS.index(op) for op in cell)


def product_index(cell: Sequence[str]) -> int:
    """Position of a cell in the product enumeration (digits as base 4, edge (0,1) first)."""
    _check_ops(cell)
    return cell_lib.product_index(cell, OPS)


def from_product_index(index: int) -> tuple[str, ...]:
    """Inverse of :func:`product_index`."""
    return cell_lib.from_product_index(index, OPS, space=NAME)


def connected(arch: str) -> bool:
    """Whether the cell has an input-to-output path (the 169 that don't train to chance)."""
    return is_connected(parse_arch(arch))


def sample_cells(rng: np.random.Generator, n: int) -> list[tuple[str, ...]]:
    """``n`` distinct cells drawn uniformly without replacement."""
    return cell_lib.sample_cells(rng, n, OPS, space=NAME)
