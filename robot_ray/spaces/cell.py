"""The 4-node, 6-edge cell notation shared by NAS-Bench-201 and TransNAS-Bench-101-micro.

A cell string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` lists, for nodes 1, 2, 3, the op on
each incoming edge ``i -> j`` written ``op~i`` inside node j's block. We keep a cell as a tuple
of six op names in that string order: edges (0,1), (0,2), (1,2), (0,3), (1,3), (2,3).
Parsing is strict (never ``eval``) and errors say exactly which part is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from robot_ray.errors import RobotRayError

EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
"""(from_node, to_node) of each position of a parsed cell, in cell-string order."""

EXAMPLE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|skip_connect~0|nor_conv_1x1~1|avg_pool_3x3~2|"


def parse_cell(arch: str, ops: Sequence[str], *, space: str = "nb201") -> tuple[str, ...]:
    """Parse a cell string into six op names (edge order of :data:`EDGES`).

    Raises:
        RobotRayError: the string is not of the form ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` or
            names an op outside ``ops``.
    """
    if not isinstance(arch, str):
        raise RobotRayError(f"{space} arch must be a string like {EXAMPLE!r}, got {type(arch).__name__}")
    text = arch.strip()
    blocks = text.split("+")
    if len(blocks) != 3:
        raise RobotRayError(
            f"malformed {space} arch string {arch!r}: expected 3 node blocks joined by '+', "
            f"found {len(blocks)}; example: {EXAMPLE!r}"
        )
    parsed: list[str] = []
    for node, block in enumerate(blocks, start=1):
        if len(block) < 2 or not (block.startswith("|") and block.endswith("|")):
            raise RobotRayError(
                f"malformed {space} arch string {arch!r}: node {node} block {block!r} must start and end with '|'"
            )
        entries = block[1:-1].split("|")
        if len(entries) != node:
            raise RobotRayError(
                f"malformed {space} arch string {arch!r}: node {node} needs {node} incoming edge(s), "
                f"found {len(entries)} in {block!r}"
            )
        for source, entry in enumerate(entries):
            op, sep, src = entry.partition("~")
            if not sep or src != str(source):
                raise RobotRayError(
                    f"malformed {space} arch string {arch!r}: edge {entry!r} of node {node} must read "
                    f"'op~{source}'"
                )
            if op not in ops:
                raise RobotRayError(
                    f"unknown op {op!r} in {space} arch string {arch!r}; known ops: {', '.join(ops)}"
                )
            parsed.append(op)
    return tuple(parsed)


def format_cell(cell: Sequence[str]) -> str:
    """Inverse of :func:`parse_cell`."""
    if len(cell) != len(EDGES):
        raise RobotRayError(f"a cell has {len(EDGES)} edges, got {len(cell)} ops: {list(cell)}")
    c = list(cell)
    return f"|{c[0]}~0|+|{c[1]}~0|{c[2]}~1|+|{c[3]}~0|{c[4]}~1|{c[5]}~2|"


def is_connected(cell: Sequence[str], *, zero_op: str = "none") -> bool:
    """True when some path of non-``zero_op`` edges joins the input (node 0) to the output (node 3).

    Cells without one compute a constant and train to chance level (341 of them in NB201).
    """
    reach = {0}
    for (src, dst), op in sorted(zip(EDGES, cell), key=lambda e: e[0][1]):
        if op != zero_op and src in reach:
            reach.add(dst)
    return 3 in reach


def product_index(cell: Sequence[str], ops: Sequence[str]) -> int:
    """Position of a cell in the product enumeration: op indices as base-len(ops) digits, edge 0 first."""
    idx = 0
    for op in cell:
        idx = idx * len(ops) + ops.index(op)
    return idx


def from_product_index(index: int, ops: Sequence[str], *, space: str = "nb201") -> tuple[str, ...]:
    """Inverse of :func:`product_index`."""
    total = len(ops) ** len(EDGES)
    if not 0 <= index < total:
        raise RobotRayError(f"{space} product index must be in 0..{total - 1}, got {index}")
    digits = []
    for _ in EDGES:
        index, d = divmod(index, len(ops))
        digits.append(ops[d])
    return tuple(reversed(digits))


def sample_cells(rng: np.random.Generator, n: int, ops: Sequence[str], *, space: str = "nb201") -> list[tuple[str, ...]]:
    """``n`` distinct cells drawn uniformly without replacement."""
    total = len(ops) ** len(EDGES)
    if not 0 < n <= total:
        raise RobotRayError(f"can sample 1..{total} distinct {space} cells, asked for {n}")
    return [from_product_index(int(i), ops, space=space) for i in rng.choice(total, size=n, replace=False)]
