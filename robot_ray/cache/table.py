"""Reading a finished cache: as one table, or straight into the search's metric matrix.

:func:`read_cache_table` gives every column as a DataFrame (arch strings included);
:func:`read_cache_matrix` is what ``robot-ray search --cache`` uses: it builds the normalised
float32 matrix shard by shard, never holding more than one batch of raw values.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from robot_ray.cache.manifest import Manifest, stale_revisions
from robot_ray.cache.shards import BadShard, iter_shard_batches, read_shard, shard_problem
from robot_ray.errors import RobotRayError
from robot_ray.metrics.matrix import ColumnScan, MetricMatrix

log = logging.getLogger(__name__)

SETTINGS_ATTR = "robot_ray.cache"
"""``DataFrame.attrs`` key holding the cache settings of a table from :func:`read_cache_table`."""


def read_cache_table(path: str | os.PathLike) -> pd.DataFrame:
    """All rows of a complete metric cache, sorted by ``arch_id``.

    Args:
        path: the cache directory written by ``robot-ray precompute --out``.

    Returns:
        DataFrame with ``arch_id`` (int64), ``arch`` (string) and one float64 column per metric;
        ``attrs["robot_ray.cache"]`` holds the cache settings (space, dataset, batch, seed, ...).

    Raises:
        RobotRayError: not a cache (or its manifest missing or damaged), shards not computed yet, or a
            shard file that is missing, unreadable, or disagrees with the manifest (sha256, columns,
            settings, arch ids); the message names the file and says to rerun precompute.
    """
    directory = Path(path)
    manifest, rerun = _complete_manifest(directory)
    frames = []
    for shard in manifest.shards:
        problem = shard_problem(directory, manifest.settings, shard)
        if problem:
            raise RobotRayError(
                f"metric cache {str(directory)!r}: shard file {shard.file} is bad ({problem}); "
                f"{rerun} to recompute it"
            )
        frames.append(read_shard(directory, shard))
    columns = ["arch_id", "arch", *manifest.settings.metrics]
    if frames:
        table = pd.concat(frames, ignore_index=True)
    else:
        table = pd.DataFrame({c: pd.Series(dtype="float64") for c in columns}).astype({"arch_id": "int64", "arch": "string"})
    table = table.sort_values("arch_id", kind="stable").reset_index(drop=True)[columns]
    table["arch"] = table["arch"].astype("string")
    table.attrs[SETTINGS_ATTR] = manifest.settings.to_json()
    return table


def read_cache_matrix(path: str | os.PathLike, metrics: list[str] | tuple[str, ...], *,
                      batch_rows: int = 1 << 16) -> MetricMatrix:
    """The normalised metric matrix of a complete cache, built shard by shard.

    Equals ``read_metric_table(read_cache_table(path), metrics)`` exactly (same values, ids,
    notes and errors, tested), without ever holding the pool as a DataFrame, its arch strings or a
    float64 copy: the output is one preallocated column-major float32 ``(N, M)`` array, and raw
    values are read ``batch_rows`` rows of the requested columns at a time, twice (first pass:
    per-metric min/max and replaced-value counts over the whole pool; second pass: min-max scaled
    into place). Peak memory is the matrix, ``arch_id`` (int64, with a scatter index when the
    manifest's shards are not in id order) and one batch.

    Raises:
        RobotRayError: not a cache, incomplete, a bad shard (the message names it and the command
            to rerun), unknown metrics, duplicate ids, or a metric without finite or distinct values.
    """
    directory = Path(path)
    manifest, rerun = _checked_manifest(directory, metrics)
    label = str(directory)
    metrics = list(metrics)

    # where each shard row goes: rows are sorted by arch_id, and the manifest knows every id
    shards = manifest.shards
    ids = np.concatenate([s.ids for s in shards]) if shards else np.zeros(0, dtype=np.int64)
    dest = None
    if len(ids) > 1 and not bool(np.all(ids[1:] > ids[:-1])):
        order = np.argsort(ids, kind="stable")
        ids = ids[order]
        if bool(np.any(ids[1:] == ids[:-1])):
            raise RobotRayError(f"metric table {label!r} has duplicate arch ids: one row per architecture is required")
        dest = np.empty(len(ids), dtype=np.int64)
        dest[order] = np.arange(len(ids), dtype=np.int64)
        del order
    offsets = np.cumsum([0] + [len(s) for s in shards])

    def batches(first_pass: bool):
        for shard, offset in zip(shards, offsets):
            try:
                for start, batch in iter_shard_batches(directory, manifest.settings, shard, metrics,
                                                       batch_rows=batch_rows, verify_checksum=first_pass):
                    rows = slice(offset + start, offset + start + batch.num_rows)
                    yield (rows if dest is None else dest[rows]), batch
            except BadShard as exc:
                raise RobotRayError(
                    f"metric cache {label!r}: shard file {shard.file} is bad ({exc}); {rerun} to recompute it"
                ) from exc

    scans = [ColumnScan(m) for m in metrics]
    for _, batch in batches(True):  # checksums verified here, before any value is used
        for scan in scans:
            scan.update(_column(batch, scan.name))
    for scan in scans:
        scan.bounds()  # raises for an empty or constant column before the second pass
    # column-major: X @ w then streams each metric column once (about 2x faster at 10^7 rows)
    values = np.empty((len(ids), len(metrics)), dtype=np.float32, order="F")
    for rows, batch in batches(False):
        for j, scan in enumerate(scans):
            values[rows, j] = scan.scale(_column(batch, scan.name))
    notes = tuple(n for n in (scan.note() for scan in scans) if n)
    return MetricMatrix(ids.astype(np.int64, copy=False), tuple(metrics), values, notes)


def check_cache(path: str | os.PathLike, metrics: list[str] | tuple[str, ...]) -> Manifest:
    """What :func:`read_cache_matrix` checks before reading a value: a complete cache holding ``metrics``.

    Reads the manifest only (shards are verified when they are read).

    Raises:
        RobotRayError: not a cache, a damaged manifest, incomplete, unknown or repeated metrics.
    """
    return _checked_manifest(Path(path), metrics)[0]


def _checked_manifest(directory: Path, metrics) -> tuple[Manifest, str]:
    manifest, rerun = _complete_manifest(directory)
    metrics = list(metrics)
    if not metrics:
        raise RobotRayError("no metrics given: pass --metrics with at least one metric name")
    have = list(manifest.settings.metrics)
    unknown = [m for m in metrics if m not in have]
    if unknown:
        raise RobotRayError(f"unknown metric(s) {', '.join(unknown)} for {str(directory)!r}; this table has: "
                            f"{', '.join(have)}")
    if len(set(metrics)) != len(metrics):
        raise RobotRayError(f"metrics {', '.join(metrics)} name a metric twice")
    return manifest, rerun


def _column(batch, name: str) -> np.ndarray:
    """A float64 column of a record batch (nulls -> NaN)."""
    return batch.column(name).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)


def _complete_manifest(directory: Path) -> tuple[Manifest, str]:
    manifest = Manifest.load(directory)
    stale = stale_revisions(manifest.settings)
    if stale:
        log.warning("metric cache %r holds older definitions of %s: its values are read as they are, but "
                    "differ from what this robot-ray computes (docs/metrics.md, 'Definition revisions')",
                    str(directory), ", ".join(stale))
    rerun = _rerun_hint(manifest, directory)
    todo = manifest.incomplete()
    if todo:
        rows = sum(len(s) for s in todo)
        raise RobotRayError(
            f"metric cache {str(directory)!r} is incomplete: {len(todo)} of {len(manifest.shards)} shards "
            f"({rows} archs) not computed yet; {rerun} to finish it"
        )
    unverified = sum(s.sha256 is None for s in manifest.shards)
    if unverified:
        log.warning("metric cache %r: %d of %d shards have no recorded sha256 (written before robot-ray recorded "
                    "them), so only their structure is checked; %s to record them", str(directory), unverified,
                    len(manifest.shards), rerun)
    return manifest, rerun


def _rerun_hint(manifest: Manifest, directory: Path) -> str:
    command = manifest.command()
    return f"rerun `{command}`" if command else f"rerun `robot-ray precompute ... --out {directory}` with the same settings"
