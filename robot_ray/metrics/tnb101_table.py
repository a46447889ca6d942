"""The TransNAS-Bench-101-micro metric table for one task: published proxies + params + flops.

Columns: ``arch_id`` (official id 0..4095), ``arch`` (canonical NB201-style cell string), then
one column per metric, ready for :func:`robot_ray.metrics.matrix.read_metric_table`:

* published NASLib proxies that cover all 4,096 cells of the task, raw as published (NASLib's
  -1e8 failure sentinel included; the matrix reader reports and replaces it): ``zen`` for every
  task, ``synflow`` and ``epe_nas`` for class_scene, class_object, room_layout and jigsaw,
  ``fisher`` for class_object and jigsaw;
* ``params``: parameters of the micro encoder (conv weights, BatchNorm affine parameters);
* ``flops``: multiply-adds of the encoder's convs for one 3 x 224 x 224 image (see
  :mod:`robot_ray.networks.tnb101` for what is and is not counted).

The other training-free metrics (NASWOT, SNIP, GraSP, ...) need Taskonomy images, which we do
not have; users who have them can compute any metric and pass their own Parquet table in this
same format (``arch_id`` + metric columns) wherever a metric table is accepted.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from robot_ray.metrics.matrix import LOG_ATTR
from robot_ray.benchmarks.tnb101 import canonical_task, task_rows
from robot_ray.errors import RobotRayError
from robot_ray.io.atomic import atomic_write_with
from robot_ray.spaces import tnb101

PUBLISHED_METRICS: tuple[str, ...] = ("zen", "synflow", "epe_nas", "fisher")
"""Proxy columns of the shared table; each task keeps those with a value for every cell."""
COMPUTED_METRICS: tuple[str, ...] = ("params", "flops")


def published_metrics(data_dir: str | os.PathLike | None, task: str) -> tuple[str, ...]:
    """The published proxies with full coverage of ``task`` (e.g. ``('zen',)`` for normal)."""
    rows = task_rows(data_dir, task)
    return tuple(m for m in PUBLISHED_METRICS if m in rows.columns and rows[m].notna().all())


def params_flops(archs: Sequence[str], *, input_size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Encoder params and multiply-adds of cells (either spelling), two int64 arrays ``(N,)``.

    Sums of per-edge costs measured once on the meta device (:func:`cost_table`), so 4,096
    cells take well under a second after the 19 small meta builds.
    """
    from robot_ray.networks.tnb101 import DEFAULT_INPUT_SIZE, cost_table

    table = cost_table(DEFAULT_INPUT_SIZE if input_size is None else input_size)
    digits = np.array([tnb101.op_digits(tnb101.parse_arch(a)) for a in archs], dtype=np.int64)
    if digits.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return table.totals(digits)


def metric_table(data_dir: str | os.PathLike | None, task: str, *, input_size: int | None = None) -> pd.DataFrame:
    """The metric table of ``task`` as a DataFrame (4,096 rows in id order); see the module doc."""
    task = canonical_task(task)
    rows = task_rows(data_dir, task)
    archs = [tnb101.canonical(a) for a in rows["tnb_arch_str"]]
    out = pd.DataFrame({"arch_id": rows["arch_index"].to_numpy(dtype=np.int64), "arch": archs})
    for m in published_metrics(data_dir, task):
        out[m] = rows[m].to_numpy(dtype=np.float64)
    out["params"], out["flops"] = params_flops(archs, input_size=input_size)
    # NASLib's TNB101 synflow is already in log space (values 0..129): do not log it again
    out.attrs[LOG_ATTR] = []
    return out


def build_metric_table(
    data_dir: str | os.PathLike | None,
    task: str,
    out_path: str | os.PathLike,
    *,
    input_size: int | None = None,
) -> Path:
    """Write the metric table of ``task`` to ``out_path`` (Parquet, written atomically).

    The file metadata records the space, task, metric provenance and FLOPs input size.

    Raises:
        RobotRayError: unknown task, missing data, or an unwritable ``out_path``.
    """
    from robot_ray.networks.tnb101 import DEFAULT_INPUT_SIZE

    size = DEFAULT_INPUT_SIZE if input_size is None else input_size
    df = metric_table(data_dir, task, input_size=size)
    published = [c for c in df.columns if c in PUBLISHED_METRICS]
    meta = {
        "space": tnb101.NAME,
        "task": canonical_task(task),
        "published_metrics": ",".join(published),
        "published_source": "automl/NASLib zero-cost benchmark files (via transnas101_micro/benchmark.parquet)",
        "computed_metrics": "params,flops",
        "flops": f"conv multiply-adds of the micro encoder, one 3x{size}x{size} image",
    }
    table = pa.Table.from_pandas(df, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **{f"robot_ray.{k}": v for k, v in meta.items()}})
    path = Path(out_path)
    try:
        atomic_write_with(path, lambda tmp: pq.write_table(table, tmp))
    except OSError as exc:
        raise RobotRayError(f"cannot write metric table to {str(path)!r}: {exc}") from exc
    return path
