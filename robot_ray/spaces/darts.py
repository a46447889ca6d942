"""The DARTS cell space (Liu et al., 2019; NAS-Bench-301): genotypes, canonical form, ids, sampling.

A genotype has a normal and a reduce cell. Each cell has 4 intermediate nodes (2..5); node
``k + 2`` sums two edges ``(op, input)`` whose input is a cell input (0, 1) or an earlier node
(``0 .. k + 1``). The cell output concatenates nodes 2..5. A cell is written as 8 ``(op, input)``
pairs, pairs ``2k, 2k + 1`` feeding node ``k + 2``, in the standard string::

    Genotype(normal=[('sep_conv_3x3', 0), ...8], normal_concat=[2, 3, 4, 5],
             reduce=[...8], reduce_concat=[2, 3, 4, 5])

Strings are read by a small tokenizer, never ``eval``; ``range(2, 6)`` is accepted for concat.

**Canonical form.** A node sums its two edges, so their order does not matter: the canonical
genotype sorts each node's pair by ``(input, op index)``. Equivalent genotypes share one canonical
string, one :func:`arch_hash` and one compact code.

**Compact code** (for pools of 10^7 in Parquet): 32 int8 per genotype, normal cell then reduce
cell, each 8 edges as ``input, op`` with ``op`` an index into :data:`OPS`. This is NASLib's
NB301 compact order (``[(input, op)] * 8`` per cell, same op indices).

**Hash.** Per node, the canonical pair of edge codes ``e = input * 7 + op`` (``a <= b``) has rank
``b (b + 1) / 2 + a``; a cell's rank mixes the 4 node ranks (radices 105, 231, 406, 630, so
< 6.2e9 < 16^9). :func:`arch_hash` is the 18 hex digits of (normal rank, reduce rank): exact,
invertible (:func:`from_hash`), independent of Python's hash seed, and computed vectorised.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from robot_ray.errors import RobotRayError

NAME = "darts"
OPS: tuple[str, ...] = (
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)
"""The 7 DARTS ops ('none' excluded), in NASLib / NB301 compact-index order."""

CELLS: tuple[str, ...] = ("normal", "reduce")
NUM_NODES = 4
EDGES_PER_CELL = 2 * NUM_NODES
CONCAT: tuple[int, ...] = (2, 3, 4, 5)
CODE_LENGTH = len(CELLS) * EDGES_PER_CELL * 2
CODE_COLUMNS: tuple[str, ...] = tuple(
    f"{cell}_{edge}_{part}" for cell in CELLS for edge in range(EDGES_PER_CELL) for part in ("input", "op")
)
"""Parquet column names of the 32 compact-code entries, in code order."""

_NUM_OPS = len(OPS)
_OP_INDEX = {op: i for i, op in enumerate(OPS)}
_EDGE_CODES = np.array([_NUM_OPS * (k + 2) for k in range(NUM_NODES)], dtype=np.int64)
_NODE_RADIX = _EDGE_CODES * (_EDGE_CODES + 1) // 2  # unordered pairs with repetition: 105, 231, 406, 630
_HASH_DIGITS = 9
HASH_LENGTH = 2 * _HASH_DIGITS

Edge = tuple[str, int]


@dataclass(frozen=True)
class Genotype:
    """A validated DARTS genotype: 8 ``(op, input)`` edges per cell, in the order given.

    Use :func:`canonical_genotype` for the order-independent form; ``str(g)`` prints the standard
    ``Genotype(...)`` string.
    """

    normal: tuple[Edge, ...]
    reduce: tuple[Edge, ...]

    def __post_init__(self) -> None:
        for cell in CELLS:
            object.__setattr__(self, cell, _check_cell(getattr(self, cell), cell))

    def __str__(self) -> str:
        return format_genotype(self)


def _check_cell(edges: object, cell: str) -> tuple[Edge, ...]:
    """Validate one cell's edge list; errors name the cell, the edge and the rule broken."""
    if not isinstance(edges, (list, tuple)):
        raise RobotRayError(f"malformed DARTS genotype: {cell} must be a list of (op, input) pairs, got {edges!r}")
    if len(edges) != EDGES_PER_CELL:
        raise RobotRayError(
            f"wrong edge count in DARTS genotype: the {cell} cell has {len(edges)} edges, expected "
            f"{EDGES_PER_CELL} (2 per intermediate node x {NUM_NODES} nodes)"
        )
    out: list[Edge] = []
    for j, edge in enumerate(edges):
        if not (isinstance(edge, (list, tuple)) and len(edge) == 2 and isinstance(edge[0], str)):
            raise RobotRayError(
                f"malformed DARTS genotype: {cell} edge {j} must be an (op, input) pair like "
                f"('sep_conv_3x3', 0), got {edge!r}"
            )
        op, src = edge
        if op not in _OP_INDEX:
            hint = " ('none' is never part of a derived DARTS genotype)" if op == "none" else ""
            raise RobotRayError(f"unknown op {op!r} in {cell} edge {j} of a DARTS genotype{hint}; known ops: {', '.join(OPS)}")
        if isinstance(src, bool) or not isinstance(src, (int, np.integer)):
            raise RobotRayError(f"malformed DARTS genotype: {cell} edge {j} input must be an int, got {src!r}")
        node = j // 2 + 2
        if not 0 <= src < node:
            raise RobotRayError(
                f"input index {src} out of range in {cell} edge {j}: it feeds node {node}, which can take "
                f"inputs 0..{node - 1} (0, 1 = cell inputs, 2.. = earlier nodes)"
            )
        out.append((op, int(src)))
    return tuple(out)


# ---------------------------------------------------------------- string parsing (no eval)

MAX_GENOTYPE_CHARS = 4096
"""Longest genotype string read. A standard one is about 330 characters (up to ~500 with spacing);
the cap keeps a hostile or mistaken input (a pasted file, a 5,000-digit number) from costing more
than a glance, and is checked before tokenizing."""
MAX_INT_DIGITS = 9
"""Longest integer literal: genotype numbers index a cell's six nodes (0..5); 9 digits keeps every
literal far below Python's int-parsing limit and every ``range`` argument an honest int."""
MAX_RANGE_ITEMS = 6
"""Most items a ``range(...)`` may hold: it only ever lists a cell's nodes for a concat, and a cell
has six (two inputs, four intermediate), so ``range(0, 2000000000)`` is refused by its length,
computed without expanding it (expanding it took 12 GB and 45 s)."""


_TOKEN = re.compile(
    r"\s*(?:(?P<str>'[^'\\]*'|\"[^\"\\]*\")|(?P<int>-?\d+)|(?P<name>[A-Za-z_]\w*)|(?P<punct>[()\[\],=]))"
)
_CLOSE = {"[": "]", "(": ")"}


def _clip(text: str, limit: int = 400) -> str:
    """``repr(text)``, cut to ``limit`` characters so an error stays one readable line."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text):,} characters)"


class _Parser:
    """Recursive descent over ``Genotype(name=value, ...)`` where values are strings, ints,
    lists/tuples of values, or ``range(ints)``."""

    def __init__(self, text: str) -> None:
        if len(text) > MAX_GENOTYPE_CHARS:
            raise RobotRayError(
                f"DARTS genotype string of {len(text):,} characters: at most {MAX_GENOTYPE_CHARS:,} are read (a "
                f"standard genotype has about 330); pass one Genotype(...) string, starting {text[:60]!r}"
            )
        self.text = text
        self.tokens: list[tuple[str, str | int, int]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = _TOKEN.match(text, pos)
            if m is None:
                at = len(text) - len(text[pos:].lstrip())
                self.fail(f"unexpected character {text[at]!r} at position {at}")
            kind = m.lastgroup
            raw = m.group(kind)
            if kind == "int" and len(raw.lstrip("-")) > MAX_INT_DIGITS:
                self.fail(f"number {raw[:20]}{'...' if len(raw) > 20 else ''} at position {m.start(kind)} is too "
                          f"large: genotype numbers index a cell's nodes 0..5")
            value: str | int = raw[1:-1] if kind == "str" else int(raw) if kind == "int" else raw
            self.tokens.append((kind, value, m.start(kind)))
            pos = m.end()
        self.i = 0

    def fail(self, why: str) -> None:
        raise RobotRayError(
            f"malformed DARTS genotype string: {why}; expected "
            "\"Genotype(normal=[('sep_conv_3x3', 0), ...8 pairs], normal_concat=[2, 3, 4, 5], "
            f"reduce=[...8 pairs], reduce_concat=[2, 3, 4, 5])\", got {_clip(self.text)}"
        )

    def peek(self) -> tuple[str, str | int, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, punct: str | None = None, kind: str | None = None) -> tuple[str, str | int, int]:
        tok = self.peek()
        if tok is None:
            self.fail(f"ended early, expected {punct or kind}")
        if punct is not None and (tok[0] != "punct" or tok[1] != punct):
            self.fail(f"expected {punct!r} at position {tok[2]}, found {tok[1]!r}")
        if kind is not None and tok[0] != kind:
            self.fail(f"expected a {kind} at position {tok[2]}, found {tok[1]!r}")
        self.i += 1
        return tok

    def value(self) -> object:
        tok = self.take()
        kind, val, pos = tok
        if kind in ("str", "int"):
            return val
        if kind == "punct" and val in _CLOSE:
            return self.sequence(_CLOSE[val])
        if kind == "name" and val == "range":
            self.take("(")
            args = self.sequence(")")
            if not 1 <= len(args) <= 3 or not all(isinstance(a, int) for a in args):
                self.fail(f"range(...) at position {pos} takes 1 to 3 ints")
            if len(args) == 3 and args[2] == 0:
                self.fail(f"range(...) at position {pos} has step 0")
            items = range(*args)  # its length is known without expanding it
            if len(items) > MAX_RANGE_ITEMS:
                self.fail(f"range{tuple(args)} at position {pos} holds {len(items):,} items; a concat lists a "
                          f"cell's nodes, at most {MAX_RANGE_ITEMS} (0..5): use [2, 3, 4, 5] or range(2, 6)")
            return list(items)
        self.fail(f"unexpected {val!r} at position {pos}")

    def sequence(self, close: str) -> list[object]:
        items: list[object] = []
        while True:
            tok = self.peek()
            if tok is not None and tok[0] == "punct" and tok[1] == close:
                self.i += 1
                return items
            items.append(self.value())
            tok = self.peek()
            if tok is not None and tok[0] == "punct" and tok[1] == ",":
                self.i += 1
            elif tok is None or tok[1] != close:
                self.fail(f"expected ',' or {close!r} at position {tok[2] if tok else len(self.text)}")

    def genotype(self) -> dict[str, object]:
        head = self.take(kind="name")
        if head[1] != "Genotype":
            self.fail(f"must start with 'Genotype(', found {head[1]!r}")
        self.take("(")
        fields: dict[str, object] = {}
        while True:
            tok = self.peek()
            if tok is not None and tok[1] == ")" and tok[0] == "punct":
                self.i += 1
                break
            _, name, pos = self.take(kind="name")
            if name in fields:
                self.fail(f"field {name!r} given twice")
            self.take("=")
            fields[str(name)] = self.value()
            tok = self.peek()
            if tok is not None and tok[0] == "punct" and tok[1] == ",":
                self.i += 1
        if self.peek() is not None:
            self.fail(f"trailing text at position {self.peek()[2]}")
        return fields


def parse_genotype(text: str) -> Genotype:
    """Parse a ``Genotype(...)`` string (edge order kept; see :func:`canonical_genotype`).

    Raises:
        RobotRayError: malformed string, missing/unknown field, concat other than [2, 3, 4, 5],
            wrong edge count, unknown op or input index out of range.
    """
    if isinstance(text, Genotype):
        return text
    if not isinstance(text, str):
        raise RobotRayError(f"a DARTS arch must be a Genotype(...) string, got {type(text).__name__}")
    fields = _Parser(text).genotype()
    expected = ("normal", "normal_concat", "reduce", "reduce_concat")
    missing = [f for f in expected if f not in fields]
    extra = [f for f in fields if f not in expected]
    if missing or extra:
        raise RobotRayError(
            f"malformed DARTS genotype string {text!r}: "
            + "; ".join(p for p in (f"missing {', '.join(missing)}" if missing else "",
                                     f"unknown field(s) {', '.join(extra)}" if extra else "") if p)
            + f"; fields are {', '.join(expected)}"
        )
    for cell in CELLS:
        concat = fields[f"{cell}_concat"]
        if not isinstance(concat, list) or tuple(concat) != CONCAT:
            raise RobotRayError(
                f"unsupported {cell}_concat {concat!r} in DARTS genotype: the DARTS space concatenates "
                "all intermediate nodes, [2, 3, 4, 5] (or range(2, 6))"
            )
    return Genotype(normal=fields["normal"], reduce=fields["reduce"])  # type: ignore[arg-type]


def format_genotype(genotype: Genotype) -> str:
    """The standard ``Genotype(...)`` string, as printed by the DARTS code's namedtuple."""
    cells = {c: "[" + ", ".join(f"('{op}', {src})" for op, src in getattr(genotype, c)) + "]" for c in CELLS}
    concat = "[" + ", ".join(map(str, CONCAT)) + "]"
    return (
        f"Genotype(normal={cells['normal']}, normal_concat={concat}, "
        f"reduce={cells['reduce']}, reduce_concat={concat})"
    )


def _canonical_cell(edges: Sequence[Edge]) -> tuple[Edge, ...]:
    out: list[Edge] = []
    for k in range(NUM_NODES):
        out.extend(sorted(edges[2 * k : 2 * k + 2], key=lambda e: (e[1], _OP_INDEX[e[0]])))
    return tuple(out)


def canonical_genotype(arch: str | Genotype) -> Genotype:
    """Sort each node's two edges by ``(input, op index)``: one representative per architecture."""
    g = parse_genotype(arch)
    return Genotype(normal=_canonical_cell(g.normal), reduce=_canonical_cell(g.reduce))


def canonical(arch: str | Genotype) -> str:
    """The canonical ``Genotype(...)`` string of an arch (validated)."""
    return format_genotype(canonical_genotype(arch))


# ---------------------------------------------------------------- compact codes and hashes


def encode(arch: str | Genotype) -> np.ndarray:
    """Canonical compact code, int8 ``(32,)``: normal then reduce, ``input, op`` per edge."""
    g = canonical_genotype(arch)
    return np.array([v for c in CELLS for op, src in getattr(g, c) for v in (src, _OP_INDEX[op])], dtype=np.int8)


def decode(code: Sequence[int] | np.ndarray) -> Genotype:
    """Genotype of a compact code (validated; edge order as stored)."""
    code = np.asarray(code)
    if code.shape != (CODE_LENGTH,):
        raise RobotRayError(f"a DARTS compact code has {CODE_LENGTH} ints, got shape {code.shape}")
    cells = {}
    for c, cell in enumerate(CELLS):
        part = code[c * 2 * EDGES_PER_CELL : (c + 1) * 2 * EDGES_PER_CELL].reshape(EDGES_PER_CELL, 2)
        edges = []
        for j, (src, op) in enumerate(part.tolist()):
            if not 0 <= op < _NUM_OPS:
                raise RobotRayError(f"op index {op} out of range in {cell} edge {j} of a DARTS code; valid 0..{_NUM_OPS - 1}")
            edges.append((OPS[op], src))
        cells[cell] = edges
    return Genotype(**cells)


def canonicalize_codes(codes: np.ndarray) -> np.ndarray:
    """Vectorised canonical form of ``(N, 32)`` codes (each node's pair sorted by input, op)."""
    c = np.asarray(codes, dtype=np.int8).reshape(-1, len(CELLS), NUM_NODES, 2, 2)
    e = c[..., 0].astype(np.int16) * _NUM_OPS + c[..., 1]
    swap = e[..., 0] > e[..., 1]
    out = c.copy()
    out[swap] = c[swap][:, ::-1]
    return out.reshape(-1, CODE_LENGTH)


def code_ranks(codes: np.ndarray, *, chunk: int = 1 << 16) -> np.ndarray:
    """Exact ``(N, 2)`` int64 ranks (normal, reduce) of codes; equal iff the canonical forms are.

    Works in chunks of ``chunk`` rows so the int64 temporaries stay small for 10^7 codes.
    """
    codes = np.asarray(codes, dtype=np.int8).reshape(-1, CODE_LENGTH)
    if len(codes) > chunk:
        return np.concatenate([_code_ranks(codes[i : i + chunk]) for i in range(0, len(codes), chunk)])
    return _code_ranks(codes)


def _code_ranks(codes: np.ndarray) -> np.ndarray:
    c = np.asarray(codes, dtype=np.int8).reshape(-1, len(CELLS), NUM_NODES, 2, 2).astype(np.int64)
    e = c[..., 0] * _NUM_OPS + c[..., 1]  # (N, 2, 4, 2) edge codes
    a, b = np.minimum(e[..., 0], e[..., 1]), np.maximum(e[..., 0], e[..., 1])
    node = ((b * (b + 1)) >> 1) + a  # (N, 2, 4)
    rank = node[..., 0].copy()
    for k in range(1, NUM_NODES):
        rank *= int(_NODE_RADIX[k])
        rank += node[..., k]
    return rank


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def ranks_to_hashes(ranks: np.ndarray) -> np.ndarray:
    """18-character hex ids of ``(N, 2)`` ranks, vectorised (numpy unicode array)."""
    ranks = np.asarray(ranks, dtype=np.int64).reshape(-1, 2)
    shifts = np.arange(4 * (_HASH_DIGITS - 1), -1, -4, dtype=np.int64)
    digits = (ranks[:, :, None] >> shifts) & 15  # (N, 2, 9)
    chars = _HEX[digits.reshape(len(ranks), HASH_LENGTH)]
    return np.ascontiguousarray(chars).view(f"S{HASH_LENGTH}").ravel().astype(f"U{HASH_LENGTH}")


def arch_hash(arch: str | Genotype) -> str:
    """Stable id of an architecture: equal for equivalent genotypes, 18 hex digits."""
    return str(ranks_to_hashes(code_ranks(encode(arch)[None]))[0])


def codes_hashes(codes: np.ndarray) -> np.ndarray:
    """:func:`arch_hash` of many ``(N, 32)`` codes at once."""
    return ranks_to_hashes(code_ranks(codes))


def from_hash(arch_id: str) -> Genotype:
    """Inverse of :func:`arch_hash` (the canonical genotype)."""
    if not (isinstance(arch_id, str) and len(arch_id) == HASH_LENGTH and re.fullmatch(r"[0-9a-f]+", arch_id)):
        raise RobotRayError(f"a DARTS arch hash is {HASH_LENGTH} lowercase hex digits, got {arch_id!r}")
    cells = {}
    for c, cell in enumerate(CELLS):
        rank = int(arch_id[c * _HASH_DIGITS : (c + 1) * _HASH_DIGITS], 16)
        nodes = []
        for k in reversed(range(NUM_NODES)):
            rank, r = divmod(rank, int(_NODE_RADIX[k]))
            nodes.append(r)
        if rank:
            raise RobotRayError(f"{arch_id!r} is not a DARTS arch hash ({cell} rank too large)")
        edges: list[Edge] = []
        for k, r in zip(range(NUM_NODES), reversed(nodes)):
            b = int((np.sqrt(8 * r + 1) - 1) // 2)
            while b * (b + 1) // 2 > r:
                b -= 1
            while (b + 1) * (b + 2) // 2 <= r:
                b += 1
            a = r - b * (b + 1) // 2
            edges += [(OPS[e % _NUM_OPS], e // _NUM_OPS) for e in (a, b)]
        cells[cell] = edges
    return Genotype(**cells)


# ---------------------------------------------------------------- sampling

SAMPLE_BLOCK = 1 << 16
"""Rows drawn per RNG block: the stream does not depend on N, so a smaller pool with the same
seed is a prefix of a larger one."""


def _draw_block(rng: np.random.Generator, m: int) -> np.ndarray:
    """``m`` uniform genotypes as codes: per node 2 distinct inputs and 2 ops, uniformly."""
    codes = np.empty((m, len(CELLS), NUM_NODES, 2, 2), dtype=np.int8)
    for k in range(NUM_NODES):
        n_in = k + 2
        a = rng.integers(0, n_in, size=(m, len(CELLS)), dtype=np.int8)
        b = rng.integers(0, n_in - 1, size=(m, len(CELLS)), dtype=np.int8)
        b += b >= a
        codes[:, :, k, 0, 0] = a
        codes[:, :, k, 1, 0] = b
    codes[..., 1] = rng.integers(0, _NUM_OPS, size=(m, len(CELLS), NUM_NODES, 2), dtype=np.int8)
    return canonicalize_codes(codes.reshape(m, CODE_LENGTH))


def sample_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct canonical codes, ``(n, 32)`` int8, uniform over the DARTS space.

    Uniform over architectures: each node takes 2 *distinct* inputs (as every DARTS-derived and
    NB301 genotype does) and an op per edge uniformly; with distinct inputs every canonical node
    has exactly 2 orderings, so canonicalising keeps the distribution uniform. Duplicates (rare:
    the space has ~1.1e18 genotypes) are dropped, keeping first draws, so ids are seed-stable
    and a pool is a prefix of any larger pool drawn with the same seed.
    """
    if n < 0:
        raise RobotRayError(f"number of DARTS genotypes to sample must be >= 0, got {n}")
    blocks = -(-n // SAMPLE_BLOCK)
    codes = np.empty((blocks * SAMPLE_BLOCK, CODE_LENGTH), dtype=np.int8)
    ranks = np.empty((blocks * SAMPLE_BLOCK, 2), dtype=np.int64)
    for b in range(blocks):  # filled in place: peak memory ~ 48 bytes per row, not a copy per block
        rows = slice(b * SAMPLE_BLOCK, (b + 1) * SAMPLE_BLOCK)
        codes[rows] = _draw_block(rng, SAMPLE_BLOCK)
        ranks[rows] = code_ranks(codes[rows])
    keep = first_unique(ranks)
    while len(keep) < n:  # duplicates: practically never (the space has ~1.1e18 genotypes)
        extra = _draw_block(rng, SAMPLE_BLOCK)
        codes = np.concatenate([codes, extra])
        ranks = np.concatenate([ranks, code_ranks(extra)])
        keep = first_unique(ranks)
    keep = keep[:n]
    if len(keep) and keep[-1] == n - 1:  # no duplicate among the first n rows: no gather copy
        return codes[:n]
    return codes[keep]


def first_unique(ranks: np.ndarray) -> np.ndarray:
    """Sorted row indices of the first occurrence of each distinct ``(N, 2)`` rank row."""
    if len(ranks) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((ranks[:, 1], ranks[:, 0]))  # stable: equal rows keep index order
    s = ranks[order]
    first = np.ones(len(s), dtype=bool)
    first[1:] = np.any(s[1:] != s[:-1], axis=1)
    return np.sort(order[first])


def sample(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct canonical genotype strings (use :func:`sample_codes` for large pools)."""
    return [format_genotype(decode(c)) for c in sample_codes(rng, n)]


def codes_to_frame(codes: np.ndarray, *, start_id: int = 0) -> pd.DataFrame:
    """A pool as a table: ``arch_id`` (row ids from ``start_id``), ``arch_hash``, 32 int8 code columns."""
    codes = np.asarray(codes, dtype=np.int8)
    frame = pd.DataFrame(codes, columns=list(CODE_COLUMNS))
    frame.insert(0, "arch_hash", codes_hashes(codes))
    frame.insert(0, "arch_id", np.arange(start_id, start_id + len(codes), dtype=np.int64))
    return frame


def codes_from_frame(frame: pd.DataFrame) -> np.ndarray:
    """The ``(N, 32)`` int8 codes of a table written by :func:`codes_to_frame`."""
    missing = [c for c in CODE_COLUMNS if c not in frame.columns]
    if missing:
        raise RobotRayError(f"DARTS pool table lacks code columns {missing[:3]}...; write it with codes_to_frame")
    return frame[list(CODE_COLUMNS)].to_numpy(dtype=np.int8)


def strings(codes: Iterable[np.ndarray]) -> list[str]:
    """Genotype strings of codes (a Python loop: for display and small pools)."""
    return [format_genotype(decode(c)) for c in codes]
