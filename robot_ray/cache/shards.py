"""Shard files: one Parquet file per shard, written atomically, checked against the manifest.

Columns: ``arch_id`` int64, ``arch`` string, then one float64 column per metric (NaN where a
metric is undefined), rows sorted by ``arch_id``. Every shard of a cache has the same schema, so
``pandas.read_parquet(CACHE)`` reads the directory as one table. The file's key-value metadata
``robot_ray.cache`` holds the settings, the shard index, the column meanings and the code and
library versions that wrote it.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from robot_ray.cache.manifest import FORMAT, FORMAT_VERSION, CacheSettings, Shard, code_versions

META_KEY = b"robot_ray.cache"
COLUMNS_DOC = {
    "arch_id": "int64 architecture id (meaning in settings.ids: official NB201 index, product index or pool row)",
    "arch": "string, canonical architecture string of the space",
    "<metric>": "float64 raw metric value (higher = better predicted accuracy), NaN where undefined",
}


def shard_schema(settings: CacheSettings) -> pa.Schema:
    """The Arrow schema every shard of a cache shares (without metadata)."""
    return pa.schema([("arch_id", pa.int64()), ("arch", pa.string())]
                     + [(m, pa.float64()) for m in settings.metrics])


def shard_table(settings: CacheSettings, shard: Shard, frame: pd.DataFrame) -> pa.Table:
    """``frame`` (``arch`` + metric columns, rows in ``shard.ids`` order) as the shard's Arrow table."""
    assert len(frame) == len(shard.ids), (len(frame), len(shard.ids))
    arrays = [pa.array(np.asarray(shard.ids, dtype=np.int64)), pa.array(frame["arch"].astype(str).tolist(), pa.string())]
    arrays += [pa.array(frame[m].to_numpy(dtype=np.float64)) for m in settings.metrics]
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "settings": settings.to_json(),
            "shard": shard.index, "rows": len(shard.ids), "columns": COLUMNS_DOC, "versions": code_versions()}
    schema = shard_schema(settings).with_metadata({META_KEY: json.dumps(meta).encode()})
    return pa.Table.from_arrays(arrays, schema=schema)


def write_shard(directory: str | os.PathLike, settings: CacheSettings, shard: Shard, frame: pd.DataFrame) -> Path:
    """Write one shard atomically: a hidden temporary file in the same directory, then ``os.replace``.

    A crash leaves either the previous state or the whole file, never half a shard under the
    real name; the hidden ``.shard-*.tmp-*`` leftovers are ignored by pyarrow and removed on resume.
    """
    path = Path(directory) / shard.file
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        pq.write_table(shard_table(settings, shard, frame), tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_shard(directory: str | os.PathLike, shard: Shard) -> pd.DataFrame:
    """The rows of one shard (may raise pyarrow's errors on a damaged file)."""
    return pq.read_table(Path(directory) / shard.file).to_pandas()


def shard_problem(directory: str | os.PathLike, settings: CacheSettings, shard: Shard) -> str | None:
    """Why the shard file does not match its manifest entry, or None when it does.

    Checks that the file reads as Parquet, has the cache's columns and settings, and holds
    exactly the shard's arch ids in order (so a truncated, foreign or stale file is caught).
    """
    path = Path(directory) / shard.file
    if not path.is_file():
        return "file missing"
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for damaged files
        return f"unreadable ({type(exc).__name__}: {exc})"
    expected = shard_schema(settings)
    if not table.schema.remove_metadata().equals(expected):
        return f"columns {table.schema.names} differ from {expected.names}"
    meta = _metadata(table.schema)
    if meta.get("settings") != settings.to_json() or meta.get("shard") != shard.index:
        return "its metadata names other settings or another shard"
    ids = table.column("arch_id").to_numpy()
    if len(ids) != len(shard.ids):
        return f"{len(ids)} rows, the manifest plans {len(shard.ids)}"
    if not np.array_equal(ids, shard.ids):
        return "its arch ids differ from the manifest's"
    return None


def _metadata(schema: pa.Schema) -> dict[str, Any]:
    raw = (schema.metadata or {}).get(META_KEY)
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        return {}
