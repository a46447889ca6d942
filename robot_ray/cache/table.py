"""Reading a finished cache as one table (what ``robot-ray search --cache`` consumes)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from robot_ray.cache.manifest import Manifest
from robot_ray.cache.shards import read_shard, shard_problem
from robot_ray.errors import RobotRayError

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
        RobotRayError: not a cache, shards not computed yet, or a shard file that is missing,
            unreadable or disagrees with the manifest; the message says to rerun precompute.
    """
    directory = Path(path)
    manifest = Manifest.load(directory)
    rerun = _rerun_hint(manifest, directory)
    todo = manifest.incomplete()
    if todo:
        rows = sum(len(s) for s in todo)
        raise RobotRayError(
            f"metric cache {str(directory)!r} is incomplete: {len(todo)} of {len(manifest.shards)} shards "
            f"({rows} archs) not computed yet; {rerun} to finish it"
        )
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


def _rerun_hint(manifest: Manifest, directory: Path) -> str:
    command = manifest.command()
    return f"rerun `{command}`" if command else f"rerun `robot-ray precompute ... --out {directory}` with the same settings"
