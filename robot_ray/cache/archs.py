"""Which architectures a precompute covers: the ``--archs`` SPEC, arch ids and their strings.

SPEC is a list ``1,5,9``, ranges ``0-99`` (mixable: ``0-9,42``), ``all``, or ``sample:N[:seed]``
(seed 0 by default). What an id means depends on the space (recorded as ``settings.ids``):

- NB201 with a data directory: ``official``, the NAS-Bench-201 index
  (:func:`robot_ray.benchmarks.nb201.official_arch_strings`).
- NB201 on ``digits`` without a data directory: ``product``, :func:`robot_ray.spaces.nb201.product_index`
  (no benchmark table to map ids; the cell string in the ``arch`` column is the same either way).
- DARTS: ``pool``, the row of the cache's ``_pool.parquet``. ``sample:N:seed`` draws N genotypes
  (:func:`robot_ray.spaces.darts.sample_codes`) and appends the ones the pool lacks, so ids never
  change; list, range and ``all`` then refer to pool rows.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from robot_ray.cache.manifest import POOL
from robot_ray.errors import RobotRayError
from robot_ray.ranges import parse_int_list

_SAMPLE = re.compile(r"^sample:(\d+)(?::(\d+))?$")
_RANGE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")
SPACES_WITH_IDS = ("nb201", "darts")
MAX_SAMPLE = 10**8
"""Largest ``sample:N``: 10^8 genotypes are 3.2 GB of codes before a metric is computed."""
MAX_LISTED_IDS = 10**7
"""Most ids a list or range may name (they are expanded in memory); ``all`` has no such limit."""
MAX_SEED = 2**32 - 1
"""``sample:N:SEED``: numpy seeds are 0..2**32-1 here."""


@dataclass(frozen=True)
class ArchSpec:
    """A parsed ``--archs`` value: ``kind`` is ``ids``, ``all`` or ``sample``."""

    kind: str
    ids: tuple[int, ...] = ()
    n: int = 0
    seed: int = 0


def parse_arch_spec(text: str) -> ArchSpec:
    """Parse SPEC (see the module docstring); no side effects.

    Raises:
        RobotRayError: malformed SPEC.
    """
    spec = (text or "").strip()
    if spec == "all":
        return ArchSpec("all")
    m = _SAMPLE.match(spec)
    if m:
        n = int(m.group(1))
        if n < 1:
            raise RobotRayError(f"--archs {text!r}: sample:N needs N >= 1")
        if n > MAX_SAMPLE:
            raise RobotRayError(f"--archs {text!r}: sample:N takes N up to {MAX_SAMPLE:,}, got {n:,}; "
                                "grow a pool in several runs of at most that many")
        seed = int(m.group(2) or 0)
        if seed > MAX_SEED:
            raise RobotRayError(f"--archs {text!r}: the sample seed must be in 0..{MAX_SEED}, got {seed}")
        return ArchSpec("sample", n=n, seed=seed)
    if spec.startswith("sample"):
        raise RobotRayError(f"malformed --archs {text!r}: write sample:N or sample:N:SEED (N >= 1), e.g. sample:100:0")
    listed = sum(int(r.group(2)) - int(r.group(1)) + 1 if r else 1
                 for r in (_RANGE.match(part) for part in spec.split(",") if part.strip()))
    if listed > MAX_LISTED_IDS:
        raise RobotRayError(f"--archs {text!r} lists {listed:,} ids, more than {MAX_LISTED_IDS:,}: use all, "
                            "sample:N, or several runs")
    ids = parse_int_list(spec, what="--archs (use a list 1,5,9, a range 0-99, all or sample:N[:seed])")
    if min(ids) < 0:
        raise RobotRayError(f"--archs {text!r}: arch ids must be >= 0")
    return ArchSpec("ids", ids=tuple(ids))


def id_kind(space: str, dataset: str, data_dir: str | os.PathLike | None) -> str:
    """``official``, ``product`` or ``pool`` (see the module docstring).

    Raises:
        RobotRayError: a space without arch ids, or NB201 on a real dataset without a data directory.
    """
    from robot_ray.data import resolve_data_dir

    if space == "darts":
        return "pool"
    if space != "nb201":
        raise RobotRayError(f"precompute supports the spaces {', '.join(SPACES_WITH_IDS)}, got {space!r}")
    required = dataset != "digits"
    return "official" if resolve_data_dir(data_dir, required=required) is not None else "product"


def nb201_ids(spec: ArchSpec) -> np.ndarray:
    """NB201 ids of a SPEC (official and product ids share the range 0..15624)."""
    from robot_ray.spaces.nb201 import NUM_ARCHS

    if spec.kind == "all":
        return np.arange(NUM_ARCHS, dtype=np.int64)
    if spec.kind == "sample":
        if spec.n > NUM_ARCHS:
            raise RobotRayError(f"--archs sample:{spec.n}: NB201 has only {NUM_ARCHS} architectures")
        return np.sort(np.random.default_rng(spec.seed).choice(NUM_ARCHS, size=spec.n, replace=False)).astype(np.int64)
    ids = np.unique(np.asarray(spec.ids, dtype=np.int64))
    if ids[-1] >= NUM_ARCHS:
        raise RobotRayError(f"--archs: NB201 ids are 0..{NUM_ARCHS - 1}, got {int(ids[-1])}")
    return ids


def nb201_strings(ids: np.ndarray, kind: str, data_dir: str | os.PathLike | None) -> list[str]:
    """Cell strings of NB201 ids of ``kind`` ``official`` or ``product``."""
    from robot_ray.spaces import nb201

    if kind == "official":
        from robot_ray.benchmarks.nb201 import official_arch_strings
        from robot_ray.data import resolve_data_dir

        table = official_arch_strings(str(resolve_data_dir(data_dir)))
        return [table[int(i)] for i in ids]
    return [nb201.format_arch(nb201.from_product_index(int(i))) for i in ids]


def load_pool(directory: str | os.PathLike) -> np.ndarray:
    """The ``(N, 32)`` int8 DARTS codes of a cache's pool (empty when there is none)."""
    from robot_ray.spaces import darts

    path = Path(directory) / POOL
    if not path.is_file():
        return np.zeros((0, darts.CODE_LENGTH), dtype=np.int8)
    try:
        return darts.codes_from_frame(pd.read_parquet(path))
    except RobotRayError:
        raise
    except Exception as exc:
        raise RobotRayError(f"cannot read the DARTS pool {str(path)!r} ({exc}): precompute into a new --out") from exc


def darts_ids(spec: ArchSpec, pool: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pool row ids of a SPEC, and the pool extended by a ``sample`` (unchanged otherwise).

    Sampled genotypes already in the pool keep their row; new ones are appended in draw order.
    """
    from robot_ray.spaces import darts

    if spec.kind == "sample":
        drawn = darts.sample_codes(np.random.default_rng(spec.seed), spec.n)
        have = {h: i for i, h in enumerate(darts.codes_hashes(pool).tolist())} if len(pool) else {}
        hashes = darts.codes_hashes(drawn).tolist()
        fresh = [j for j, h in enumerate(hashes) if h not in have]
        for k, j in enumerate(fresh):
            have[hashes[j]] = len(pool) + k
        pool = np.concatenate([pool, drawn[fresh]]) if fresh else pool
        return np.unique(np.array([have[h] for h in hashes], dtype=np.int64)), pool
    if not len(pool):
        raise RobotRayError("DARTS arch ids are rows of a sampled pool, and this cache has none yet: "
                            "start with --archs sample:N[:seed]")
    if spec.kind == "all":
        return np.arange(len(pool), dtype=np.int64), pool
    ids = np.unique(np.asarray(spec.ids, dtype=np.int64))
    if ids[-1] >= len(pool):
        raise RobotRayError(f"--archs: the DARTS pool of this cache has rows 0..{len(pool) - 1}, got {int(ids[-1])}; "
                            "grow it with --archs sample:N[:seed]")
    return ids, pool


def darts_strings(ids: np.ndarray, pool: np.ndarray) -> list[str]:
    from robot_ray.spaces import darts

    return darts.strings(pool[np.asarray(ids, dtype=np.int64)])
