"""Atomic writes: a hidden temporary file beside the target, then ``os.replace``.

Why: a crash or a kill -9 must never leave half a file where a reader (a resume, a report, a
second process) expects a whole one. Every local file robot-ray writes goes through here.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def _tmp_for(path: Path) -> Path:
    # pid + random suffix: two threads or processes writing the same target never share a temp file
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def atomic_write_with(path: str | os.PathLike, write: Callable[[Path], None], *, fsync: bool = False) -> Path:
    """Call ``write(tmp)`` to fill a temporary file, then move it onto ``path`` in one step.

    ``fsync=True`` flushes the file to disk before the move, for files a power loss must not
    empty (checkpoints, cache shards); it costs a disk round trip per file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_for(path)
    try:
        write(tmp)
        if fsync:
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    return atomic_write_with(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """JSON with numpy scalars and arrays converted; indented, newline-terminated."""
    return atomic_write_bytes(path, (json.dumps(obj, indent=2, default=jsonable) + "\n").encode())


def atomic_write_parquet(path: str | os.PathLike, frame: pd.DataFrame) -> Path:
    return atomic_write_with(path, lambda tmp: frame.to_parquet(tmp, index=False))


def jsonable(o: Any) -> Any:
    """``json.dumps`` default: numpy scalars and arrays as Python numbers and lists."""
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
