"""The cache manifest (``_manifest.json``): settings, code versions, the arch plan and shard states.

The manifest is the single source of truth for *which* rows a cache should hold: every shard is
planned here (its arch ids, its file name) before any value is computed, so a shard file on disk
either matches its manifest entry or is invalid. Arch ids are stored as half-open runs
``[[start, stop], ...]``, which keeps ``all`` of NB201 or a 10^7-row DARTS pool to a few numbers.
The leading underscore keeps pyarrow (and ``pandas.read_parquet(CACHE)``) from reading it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

import robot_ray
from robot_ray.errors import RobotRayError
from robot_ray.io.state import check_version

MANIFEST = "_manifest.json"
POOL = "_pool.parquet"
LOCK = "_lock"
"""The flock file of robot-ray before writer leases (robot_ray.io.lease); still ignored where it is left."""
FORMAT = "robot-ray-metric-cache"
FORMAT_VERSION = 2
"""Version 2 adds ``settings.revisions``. Caches without revised metrics are still written as 1, so
older robot-ray reads them; older robot-ray refuses version 2, so it can never extend a cache of
a revised metric under its old definition.

Each shard entry may carry ``sha256``, the digest of its file as written. It is an optional field,
not a new version: every reader of versions 1 and 2 reads shard entries by key, so an older
robot-ray still reads these manifests (without verifying), and this one reads older manifests
(their shards are checked for structure only, until ``robot-ray precompute`` records their
digests on its next run)."""
READABLE_VERSIONS = (1, FORMAT_VERSION)
_SHA256 = re.compile(r"[0-9a-f]{64}")


def format_version(settings: CacheSettings) -> int:
    """The oldest format that holds ``settings``."""
    return FORMAT_VERSION if settings.revisions else 1


@dataclass(frozen=True)
class CacheSettings:
    """Everything that makes two metric values comparable; one cache holds exactly one setting.

    Attributes:
        space: search space (``nb201``, ``darts``).
        dataset: image dataset of the metric batch.
        metrics: metric names, in column order.
        batch_size: images in the metric batch.
        seed: seed of the batch, the weights and the Gaussian passes.
        size: network-builder keywords (``{"channels": 16, "cells": 5}`` for NB201).
        ids: what ``arch_id`` means: ``official`` (NB201 benchmark index), ``product`` (NB201
            product index, :func:`robot_ray.spaces.nb201.product_index`) or ``pool`` (row of
            the cache's own ``_pool.parquet``, DARTS).
        revisions: definition revision of each metric whose revision is above 1
            (:attr:`robot_ray.metrics.registry.Metric.revision`); absent = 1, which is also
            what caches written before revisions existed hold.
    """

    space: str
    dataset: str
    metrics: tuple[str, ...]
    batch_size: int
    seed: int
    size: Mapping[str, int]
    ids: str
    revisions: Mapping[str, int] = field(default_factory=dict)

    def revision(self, metric: str) -> int:
        return self.revisions.get(metric, 1)

    def __post_init__(self) -> None:
        # only revised metrics of this cache, as plain ints: equal settings compare and serialise alike
        object.__setattr__(self, "revisions", {m: int(v) for m, v in dict(self.revisions or {}).items()
                                               if m in self.metrics and int(v) != 1})

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"space": self.space, "dataset": self.dataset, "metrics": list(self.metrics),
                               "batch_size": self.batch_size, "seed": self.seed, "size": dict(self.size),
                               "ids": self.ids}
        if self.revisions:  # manifests of unrevised metrics read the same as before revisions existed
            out["revisions"] = dict(self.revisions)
        return out

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> CacheSettings:
        return cls(space=raw["space"], dataset=raw["dataset"], metrics=tuple(raw["metrics"]),
                   batch_size=int(raw["batch_size"]), seed=int(raw["seed"]),
                   size={k: int(v) for k, v in raw["size"].items()}, ids=raw["ids"],
                   revisions=dict(raw.get("revisions") or {}))

    def differences(self, other: CacheSettings) -> list[str]:
        """``"name: cache has A, this run asks B"`` for every setting that differs (metric order ignored)."""
        out = []
        for key in ("space", "dataset", "batch_size", "seed", "ids"):
            if getattr(self, key) != getattr(other, key):
                out.append(f"{key}: cache has {getattr(self, key)!r}, this run asks {getattr(other, key)!r}")
        if dict(self.size) != dict(other.size):
            out.append(f"network size: cache has {dict(self.size)}, this run asks {dict(other.size)}")
        if set(self.metrics) != set(other.metrics):
            out.append(f"metrics: cache has {','.join(self.metrics)}, this run asks {','.join(other.metrics)}")
        for m in self.metrics:
            if m in other.metrics and self.revision(m) != other.revision(m):
                out.append(f"{m} definition: cache holds revision {self.revision(m)}, this code computes "
                           f"revision {other.revision(m)} (see docs/metrics.md, 'Definition revisions')")
        return out


def stale_revisions(settings: CacheSettings) -> list[str]:
    """``"swap (cache revision 1, this code 2)"`` for each metric of a cache computed under another revision."""
    from robot_ray.metrics.catalog import revisions_of  # loads torch: only when a cache is checked

    current = revisions_of(settings.metrics)
    return [f"{n} (cache revision {settings.revision(n)}, this code {current.get(n, 1)})"
            for n in settings.metrics if settings.revision(n) != current.get(n, 1)]


@dataclass
class Shard:
    """One planned shard: its arch ids (sorted) and, once written, its file's sha256, where and how long it took."""

    index: int
    ids: np.ndarray
    complete: bool = False
    node_id: str | None = None
    seconds: float | None = None
    sha256: str | None = None

    @property
    def file(self) -> str:
        return shard_file(self.index)

    def __len__(self) -> int:
        return len(self.ids)

    def to_json(self) -> dict[str, Any]:
        out = {"index": self.index, "file": self.file, "rows": len(self.ids), "ids": encode_ids(self.ids),
               "complete": self.complete, "node_id": self.node_id, "seconds": self.seconds}
        if self.sha256 is not None:
            out["sha256"] = self.sha256
        return out

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Shard:
        ids = decode_ids(raw["ids"])
        if len(ids) != raw["rows"]:
            raise ValueError(f"shard {raw['index']}: {len(ids)} ids but rows={raw['rows']}")
        digest = raw.get("sha256")
        if digest is not None and not (isinstance(digest, str) and _SHA256.fullmatch(digest)):
            raise ValueError(f"shard {raw['index']}: sha256 {digest!r} is not 64 hex digits")
        return cls(int(raw["index"]), ids, bool(raw["complete"]), raw.get("node_id"), raw.get("seconds"), digest)


@dataclass
class Manifest:
    """The manifest of one cache directory; see the module docstring and ``docs/precompute.md``."""

    settings: CacheSettings
    shards: list[Shard] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    pool: dict[str, Any] | None = None
    created: str = field(default_factory=lambda: _now())

    # ------------------------------------------------------------------ views

    def arch_ids(self) -> np.ndarray:
        """All planned arch ids, sorted."""
        if not self.shards:
            return np.zeros(0, dtype=np.int64)
        return np.sort(np.concatenate([s.ids for s in self.shards]))

    def incomplete(self) -> list[Shard]:
        return [s for s in self.shards if not s.complete]

    def command(self) -> str | None:
        """The command line of the latest run (to print in "rerun ..." hints)."""
        return self.runs[-1].get("command") if self.runs else None

    # ------------------------------------------------------------------ planning

    def plan(self, ids: Iterable[int], shard_size: int) -> list[Shard]:
        """Append shards for the ``ids`` not planned yet (sorted, ``shard_size`` each); returns them."""
        if shard_size < 1:
            raise RobotRayError(f"--shard-size must be at least 1, got {shard_size}")
        want = np.unique(np.asarray(list(ids) if not isinstance(ids, np.ndarray) else ids, dtype=np.int64))
        new = np.setdiff1d(want, self.arch_ids(), assume_unique=True)
        start = max((s.index for s in self.shards), default=-1) + 1
        added = [Shard(start + k, new[i:i + shard_size]) for k, i in enumerate(range(0, len(new), shard_size))]
        self.shards.extend(added)
        return added

    # ------------------------------------------------------------------ files

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": format_version(self.settings),
            "settings": self.settings.to_json(),
            "num_archs": int(sum(len(s) for s in self.shards)),
            "complete": not self.incomplete(),
            "created": self.created,
            "updated": _now(),
            "pool": self.pool,
            "runs": self.runs,
            "shards": [s.to_json() for s in self.shards],
        }

    def save(self, directory: str | os.PathLike) -> None:
        """Write atomically (:func:`robot_ray.io.atomic.atomic_write_json`)."""
        from robot_ray.io.atomic import atomic_write_json

        atomic_write_json(Path(directory) / MANIFEST, self.to_json())

    @classmethod
    def load(cls, directory: str | os.PathLike) -> Manifest:
        """Read ``_manifest.json`` of a cache directory.

        Raises:
            RobotRayError: no manifest, not a robot-ray cache, or a manifest that cannot be parsed.
        """
        path = Path(directory) / MANIFEST
        if not path.is_file():
            if has_cache_files(directory):
                raise RobotRayError(
                    f"metric cache {str(directory)!r} has shard files but no {MANIFEST} (deleted?): without it "
                    "robot-ray cannot verify the shards and does not read them; rebuild it from the shards with "
                    f"`robot-ray precompute --repair --out {directory}`, restore it from the copy or bucket the "
                    "cache came from, or precompute into a new --out directory"
                )
            raise RobotRayError(
                f"{str(directory)!r} is not a robot-ray metric cache (no {MANIFEST}): "
                "create it with `robot-ray precompute --out DIR ...`"
            )
        try:
            raw = json.loads(path.read_bytes())
        except (OSError, ValueError) as exc:  # ValueError: JSONDecodeError, UnicodeDecodeError
            raise RobotRayError(
                f"cannot read the manifest {str(path)!r} ({exc}): it is damaged (truncated or edited?), and robot-ray "
                "does not read the shards without it; rebuild it from the shards with "
                f"`robot-ray precompute --repair --out {directory}`, restore it from the copy or bucket the cache "
                "came from, or precompute into a new --out directory"
            ) from exc
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            found = raw.get("format") if isinstance(raw, dict) else type(raw).__name__
            raise RobotRayError(f"{str(path)!r} is not a metric cache manifest (format {found!r}, expected "
                                f"{FORMAT!r}): precompute into a new --out directory")
        check_version(raw, kind="metric cache manifest", key="format_version", supported=READABLE_VERSIONS,
                      source=repr(str(path)), hint="precompute into a new --out directory")
        try:
            return cls(settings=CacheSettings.from_json(raw["settings"]),
                       shards=[Shard.from_json(s) for s in raw["shards"]], runs=list(raw.get("runs", [])),
                       pool=raw.get("pool"), created=raw.get("created", _now()))
        except (ValueError, KeyError, TypeError) as exc:
            raise RobotRayError(
                f"cannot read the manifest {str(path)!r} ({exc}): the cache is damaged; rebuild the manifest with "
                f"`robot-ray precompute --repair --out {directory}` or precompute into a new --out directory"
            ) from exc


def shard_file(index: int) -> str:
    return f"shard-{index:06d}.parquet"


def has_cache_files(directory: str | os.PathLike) -> bool:
    """Whether ``directory`` holds data files only a metric cache writes (shards or a DARTS pool)."""
    path = Path(directory)
    if not path.is_dir():
        return False
    return (path / POOL).is_file() or any(path.glob("shard-*.parquet"))


def encode_ids(ids: np.ndarray) -> list[list[int]]:
    """Sorted ids as half-open runs ``[[start, stop], ...]`` (``[0..99]`` -> ``[[0, 100]]``)."""
    ids = np.asarray(ids, dtype=np.int64)
    if not len(ids):
        return []
    breaks = np.flatnonzero(np.diff(ids) != 1) + 1
    starts = ids[np.r_[0, breaks]]
    stops = ids[np.r_[breaks - 1, len(ids) - 1]] + 1
    return [[int(a), int(b)] for a, b in zip(starts, stops)]


def decode_ids(runs: Iterable[Iterable[int]]) -> np.ndarray:
    """Inverse of :func:`encode_ids`."""
    parts = [np.arange(int(a), int(b), dtype=np.int64) for a, b in runs]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


@lru_cache(maxsize=1)
def code_versions() -> dict[str, str | None]:
    """robot-ray version, git commit of its checkout (when there is one) and library versions."""
    out: dict[str, str | None] = {"robot_ray": robot_ray.__version__, "git_commit": _git_commit()}
    for lib in ("torch", "ray", "numpy", "pandas", "pyarrow"):
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            out[lib] = None
    return out


def _git_commit() -> str | None:
    root = Path(robot_ray.__file__).resolve().parent
    try:
        res = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() or None if res.returncode == 0 else None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
