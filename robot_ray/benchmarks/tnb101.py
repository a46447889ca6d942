"""TransNAS-Bench-101-micro table (``transnas101_micro/benchmark.parquet``) as a TabularBenchmark.

One benchmark per task. The objective is the task's final-epoch validation metric
(``val_metric``, higher is better: top-1 % for the classification tasks and jigsaw, pixel
accuracy % for segmentsemantic, SSIM for normal and autoencoder, and the *negative* L2 loss for
room_layout). The table has no separate test value, so ``test_values`` repeat ``val_metric``:
RoBoT's TransNAS-Bench-101 results (paper Table 3) report the validation rank, which is
``value_rank`` here. The table has no training time either, so every cost is NaN.
"""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np
import pandas as pd

from robot_ray.benchmarks.base import TabularBenchmark
from robot_ray.data import data_file
from robot_ray.errors import RobotRayError
from robot_ray.spaces import tnb101

TASKS: tuple[str, ...] = (
    "class_scene",
    "class_object",
    "room_layout",
    "jigsaw",
    "segmentsemantic",
    "normal",
    "autoencoder",
)
_ALIASES = {
    "scene": "class_scene",
    "object": "class_object",
    "layout": "room_layout",
    "segmentation": "segmentsemantic",
    "semantic": "segmentsemantic",
}
TABLE_PARTS = ("transnas101_micro", "benchmark.parquet")


def canonical_task(name: str) -> str:
    """Official task name of ``name`` (also accepts the paper's short names, e.g. ``scene``).

    Raises:
        RobotRayError: unknown task; the message lists the seven tasks.
    """
    key = str(name).strip().lower()
    if key in TASKS:
        return key
    if key in _ALIASES:
        return _ALIASES[key]
    raise RobotRayError(f"unknown TransNAS-Bench-101 task {name!r}; choose one of {', '.join(TASKS)}")


@lru_cache(maxsize=2)
def _read(path: str) -> pd.DataFrame:
    return pd.read_parquet(path)


def load_table(data_dir: str | os.PathLike | None) -> pd.DataFrame:
    """The raw TNB101-micro table (28,672 rows = 4,096 cells x 7 tasks), read once per process."""
    return _read(str(data_file(data_dir, *TABLE_PARTS)))


@lru_cache(maxsize=4)
def official_arch_strings(data_dir: str) -> tuple[str, ...]:
    """The 4,096 canonical cell strings in official id order, read from the benchmark table."""
    table = load_table(data_dir)
    first = table[table["task"] == table["task"].iloc[0]].sort_values("arch_index")
    return tuple(tnb101.canonical(a) for a in first["tnb_arch_str"])


def task_rows(data_dir: str | os.PathLike | None, task: str) -> pd.DataFrame:
    """The 4,096 rows of one task in official id order (checked to cover ids 0..4095)."""
    task = canonical_task(task)
    table = load_table(data_dir)
    rows = table[table["task"] == task].sort_values("arch_index").reset_index(drop=True)
    if len(rows) != tnb101.NUM_ARCHS or not np.array_equal(rows["arch_index"].to_numpy(), np.arange(tnb101.NUM_ARCHS)):
        raise RobotRayError(
            f"{'/'.join(TABLE_PARTS)} has {len(rows)} rows for task {task}, "
            f"expected arch_index 0..{tnb101.NUM_ARCHS - 1}"
        )
    return rows


def load(data_dir: str | os.PathLike | None, task: str = "class_scene") -> TabularBenchmark:
    """TNB101-micro benchmark for one task.

    ``values`` and ``test_values`` are both ``val_metric`` (the table has no test split; the
    paper reports validation ranks), ``costs`` are NaN (no training times in the table). Arch
    strings are canonical NB201-style; ``arch_id`` also accepts official ``64-41414-a_bc_def``.

    Raises:
        RobotRayError: unknown task, missing data directory or file, incomplete table.
    """
    task = canonical_task(task)
    rows = task_rows(data_dir, task)
    archs = [tnb101.canonical(a) for a in rows["tnb_arch_str"]]
    values = rows["val_metric"].to_numpy(dtype=np.float64)
    metric_name = str(rows["val_metric_name"].iloc[0])
    return TabularBenchmark(
        space=tnb101.NAME,
        dataset=task,
        archs=archs,
        values=values,
        test_values=values.copy(),
        costs=np.full(len(archs), np.nan),
        value_name=metric_name,
        test_name=metric_name,
        canonicalize=tnb101.canonical,
    )


def value_ranks(values: np.ndarray) -> np.ndarray:
    """1-based rank of every entry (1 + number strictly greater; ties share the best rank).

    The vectorised form of :meth:`TabularBenchmark.value_rank`, for reports over many archs.
    """
    v = np.asarray(values, dtype=np.float64)
    s = np.sort(v)
    return (len(v) - np.searchsorted(s, v, side="right") + 1).astype(np.int64)
