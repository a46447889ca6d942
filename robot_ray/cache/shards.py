"""Shard files: one Parquet file per shard, written atomically, checked against the manifest.

Columns: ``arch_id`` int64, ``arch`` string, then one float64 column per metric (NaN where a
metric is undefined), rows sorted by ``arch_id``. Every shard of a cache has the same schema, so
``pandas.read_parquet(CACHE)`` reads the directory as one table. The file's key-value metadata
``robot_ray.cache`` holds the settings, the shard index, the column meanings and the code and
library versions that wrote it, and ``content_sha256``, a digest of the rows themselves
(:func:`content_sha256`), so that a shard verifies itself without the manifest: a lost or damaged
manifest is rebuilt from such shards (:mod:`robot_ray.cache.repair`). The manifest records each
file's sha256 as written (:attr:`Shard.sha256`); every reader here compares it before trusting the
file's values.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from robot_ray.cache.manifest import FORMAT, CacheSettings, Shard, code_versions, format_version
from robot_ray.io.atomic import atomic_write_with

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
    table = pa.Table.from_arrays(arrays, schema=shard_schema(settings))
    meta = {"format": FORMAT, "format_version": format_version(settings), "settings": settings.to_json(),
            "shard": shard.index, "rows": len(shard.ids), "columns": COLUMNS_DOC, "versions": code_versions(),
            "content_sha256": content_sha256(table)}
    return table.replace_schema_metadata({META_KEY: json.dumps(meta).encode()})


def content_sha256(table: pa.Table) -> str:
    """Hex sha256 of a shard's rows: each column's name, then its values in a fixed byte form.

    Integers and floats as little-endian 8-byte values (every NaN as the one canonical NaN),
    strings as their little-endian int64 UTF-8 lengths, then their bytes. Independent of how
    Parquet encodes or compresses the file, so it is stored inside the file (key-value metadata)
    and checked after reading it back; a changed value, row or column name changes it.
    """
    h = hashlib.sha256()
    for name, column in zip(table.column_names, table.columns):
        h.update(name.encode() + b"\0")
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            encoded = [str(v).encode() for v in column.to_pylist()]
            h.update(np.array([len(e) for e in encoded], dtype="<i8").tobytes())
            h.update(b"".join(encoded))
            continue
        values = column.to_numpy()
        if values.dtype.kind == "f":
            values = np.where(np.isnan(values), np.nan, values).astype("<f8")
        else:
            values = values.astype("<i8")
        h.update(np.ascontiguousarray(values).tobytes())
    return h.hexdigest()


def write_shard(directory: str | os.PathLike, settings: CacheSettings, shard: Shard, frame: pd.DataFrame) -> Path:
    """Write one shard atomically (:func:`robot_ray.io.atomic.atomic_write_with`, fsynced) and set ``shard.sha256``.

    A crash leaves either the previous state or the whole file, never half a shard under the
    real name; the hidden ``.shard-*.tmp-*`` leftovers are ignored by pyarrow and removed on resume.
    The digest is of the bytes written (taken before the file is moved into place); the caller
    saves it with the manifest.
    """
    table = shard_table(settings, shard, frame)
    digest: list[str] = []

    def write(tmp: Path) -> None:
        pq.write_table(table, tmp)
        digest.append(file_sha256(tmp))

    path = atomic_write_with(Path(directory) / shard.file, write, fsync=True)
    shard.sha256 = digest[0]
    return path


def file_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read 1 MiB at a time."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def checksum_problem(path: Path, shard: Shard) -> str | None:
    """Why the file's sha256 differs from the one the manifest recorded (None: equal, or none recorded)."""
    if shard.sha256 is None:
        return None
    try:
        actual = file_sha256(path)
    except OSError as exc:
        return f"unreadable ({exc})"
    if actual != shard.sha256:
        return (f"checksum mismatch: its sha256 is {actual[:16]}..., the manifest recorded {shard.sha256[:16]}...; "
                "the file changed after it was written")
    return None


def read_shard(directory: str | os.PathLike, shard: Shard) -> pd.DataFrame:
    """The rows of one shard (may raise pyarrow's errors on a damaged file)."""
    return pq.read_table(Path(directory) / shard.file).to_pandas()


def shard_problem(directory: str | os.PathLike, settings: CacheSettings, shard: Shard) -> str | None:
    """Why the shard file does not match its manifest entry, or None when it does.

    Checks the file's sha256 against the manifest's (when one is recorded: a flipped byte in a
    value reads as valid Parquet), then that the file reads as Parquet, has the cache's columns
    and settings, and holds exactly the shard's arch ids in order (so a truncated, foreign or
    stale file is caught even without a recorded digest).
    """
    path = Path(directory) / shard.file
    if not path.is_file():
        return "file missing"
    problem = checksum_problem(path, shard)
    if problem:
        return problem
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for damaged files
        return f"unreadable ({type(exc).__name__}: {exc})"
    problem = _schema_problem(table.schema, settings, shard)
    if problem:
        return problem
    return _ids_problem(table.column("arch_id").to_numpy(), shard)


class BadShard(Exception):
    """A shard file that does not match its manifest entry; the message says why (as :func:`shard_problem`)."""


def iter_shard_batches(directory: str | os.PathLike, settings: CacheSettings, shard: Shard, columns: list[str], *,
                       batch_rows: int = 1 << 16, verify_checksum: bool = True) -> Iterator[tuple[int, pa.RecordBatch]]:
    """``(first row, batch)`` of the shard's ``columns`` (``arch_id`` first), at most ``batch_rows`` rows each.

    Reads only the columns asked for, a batch at a time, so memory is bounded by ``batch_rows``
    whatever the shard size. Checks what :func:`shard_problem` checks (except that columns not
    read are not decoded) on the way; the sha256 (the whole file) first, unless
    ``verify_checksum`` is False (a second pass over a file already verified).

    Raises:
        BadShard: file missing or unreadable, checksum mismatch, other columns or settings, other arch ids.
    """
    path = Path(directory) / shard.file
    if not path.is_file():
        raise BadShard("file missing")
    if verify_checksum:
        problem = checksum_problem(path, shard)
        if problem:
            raise BadShard(problem)
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise BadShard(f"unreadable ({type(exc).__name__}: {exc})") from exc
    with pf:
        problem = _schema_problem(pf.schema_arrow, settings, shard)
        if problem:
            raise BadShard(problem)
        if pf.metadata.num_rows != len(shard.ids):
            raise BadShard(f"{pf.metadata.num_rows} rows, the manifest plans {len(shard.ids)}")
        batches = pf.iter_batches(batch_size=batch_rows, columns=["arch_id", *columns])
        start = 0
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                break
            except Exception as exc:
                raise BadShard(f"unreadable ({type(exc).__name__}: {exc})") from exc
            stop = start + batch.num_rows
            if not np.array_equal(batch.column(0).to_numpy(), shard.ids[start:stop]):
                raise BadShard("its arch ids differ from the manifest's")
            yield start, batch
            start = stop
        if start != len(shard.ids):
            raise BadShard(f"{start} rows, the manifest plans {len(shard.ids)}")


def _schema_problem(schema: pa.Schema, settings: CacheSettings, shard: Shard) -> str | None:
    expected = shard_schema(settings)
    if not schema.remove_metadata().equals(expected):
        return f"columns {schema.names} differ from {expected.names}"
    meta = _metadata(schema)
    if meta.get("settings") != settings.to_json() or meta.get("shard") != shard.index:
        return "its metadata names other settings or another shard"
    return None


def _ids_problem(ids: np.ndarray, shard: Shard) -> str | None:
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
