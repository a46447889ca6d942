"""The normalised metric matrix X (N archs x M metrics, float32) that RoBoT scores with.

RoBoT min-max normalises every metric over the pool so that weights in [-1, 1] are comparable.
Before that, heavy-tailed metrics go to log space (synflow spans 1e20..1e70 and beyond), and
values that are not numbers (NaN, +-inf, NASLib's -1e8 failure sentinel, log of a non-positive
synflow) become the metric's worst value (0 after normalisation). Every such replacement is
counted and reported, never silent.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from robot_ray.errors import RobotRayError

LOG_METRICS: frozenset[str] = frozenset({"synflow"})
"""Metrics normalised in log space (their consumers compare them by order of magnitude)."""

LOG_ATTR = "robot_ray.log_metrics"
"""DataFrame ``attrs`` key (kept in Parquet) listing the columns to log; absent = LOG_METRICS."""

NASLIB_SENTINEL = -1e8
ID_COLUMNS = ("arch_id", "arch_index")


@dataclass(frozen=True)
class MetricMatrix:
    """Normalised metrics over a pool.

    Attributes:
        arch_ids: int64 ``(N,)``, the benchmark ids of the rows.
        names: the M metric names, in column order.
        values: float32 ``(N, M)`` in [0, 1]; 1 = best value of the metric in the pool.
        notes: human-readable lines on transforms and replaced values.
        source: where it was loaded from (a :class:`robot_ray.metric_sources.MetricSource`), so a
            searcher can checkpoint the reference instead of the matrix; None if built in memory.
        archs: what names the rows (a benchmark: ``arch(id) -> str``, ``arch_id(str) -> int``);
            None if unknown.
    """

    arch_ids: np.ndarray
    names: tuple[str, ...]
    values: np.ndarray
    notes: tuple[str, ...] = field(default=())
    source: Any = field(default=None, compare=False)
    archs: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        assert self.values.shape == (len(self.arch_ids), len(self.names))
        assert self.values.dtype == np.float32

    @property
    def num_archs(self) -> int:
        return len(self.arch_ids)


class ColumnScan:
    """One metric column seen in pieces (shard by shard): its transform, its min-max and its note.

    :meth:`update` every piece once (first pass), then :meth:`bounds`, then :meth:`scale` every
    piece again (second pass). The transform is elementwise and min/max of the pieces' min/max is
    the column's, so the result equals normalising the whole column at once, bit for bit.
    """

    def __init__(self, name: str, *, log: bool | None = None) -> None:
        self.name = name
        self.log = (name in LOG_METRICS) if log is None else bool(log)
        self.rows = self.bad = self.sentinel = self.nonpos = 0
        self.lo, self.hi = np.inf, -np.inf

    def transform(self, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int]:
        """(float64 values, mask of usable values, sentinel count, non-positive count) of a piece."""
        x = np.asarray(raw, dtype=np.float64)
        bad = ~np.isfinite(x)
        sentinel = x == NASLIB_SENTINEL
        bad |= sentinel
        nonpos_count = 0
        if self.log:
            nonpos = ~bad & (x <= 0)
            bad |= nonpos
            nonpos_count = int(nonpos.sum())
            with np.errstate(divide="ignore", invalid="ignore"):
                x = np.log(np.where(bad, 1.0, x))
        return x, ~bad, int(sentinel.sum()), nonpos_count

    def update(self, raw: np.ndarray) -> None:
        """First pass: count replaced values and track the min and max of the usable ones."""
        x, good, sentinel, nonpos = self.transform(raw)
        self.rows += len(x)
        self.bad += len(x) - int(good.sum())
        self.sentinel += sentinel
        self.nonpos += nonpos
        if good.any():
            kept = x[good]
            self.lo = min(self.lo, float(kept.min()))
            self.hi = max(self.hi, float(kept.max()))

    def bounds(self) -> tuple[float, float]:
        """(min, max) of the usable values over every piece seen.

        Raises:
            RobotRayError: the column has no finite value, or all finite values are equal.
        """
        if self.bad == self.rows:
            raise RobotRayError(
                f"metric {self.name!r} has no finite value over the {self.rows} archs of the pool: "
                "recompute it or leave it out of --metrics"
            )
        if not self.hi > self.lo:
            raise RobotRayError(
                f"metric {self.name!r} is constant ({self.lo:g}) over the {self.rows - self.bad} archs with a value: "
                "it cannot rank architectures; leave it out of --metrics"
            )
        return self.lo, self.hi

    def scale(self, raw: np.ndarray) -> np.ndarray:
        """Second pass: a piece min-max normalised (float64; replaced values -> 0, the worst)."""
        lo, hi = self.bounds()
        x, good, _, _ = self.transform(raw)
        return np.where(good, (x - lo) / (hi - lo), 0.0)

    def note(self) -> str | None:
        """What was transformed or replaced, or None when nothing was."""
        transform = ""
        if self.log:
            transform = f" (log; {self.nonpos} non-positive)" if self.nonpos else " (log)"
        if not (self.bad or transform):
            return None
        parts = []
        if self.bad:
            parts.append(
                f"{self.bad} of {self.rows} values not finite"
                + (f" ({self.sentinel} NASLib -1e8 sentinels)" if self.sentinel else "")
                + " -> worst value"
            )
        return f"{self.name}{transform}: " + ("; ".join(parts) if parts else "ok")


def normalise_column(name: str, raw: np.ndarray, *, log: bool | None = None) -> tuple[np.ndarray, str | None]:
    """Transform and min-max normalise one metric column; returns (values, note or None).

    Raises:
        RobotRayError: the column has no finite value, or all finite values are equal.
    """
    scan = ColumnScan(name, log=log)
    scan.update(raw)
    return scan.scale(raw), scan.note()


def normalise(
    arch_ids: np.ndarray, raw: dict[str, np.ndarray], *, log_metrics: frozenset[str] = LOG_METRICS
) -> MetricMatrix:
    """Build the normalised matrix from raw columns (one array per metric, same order as ids).

    ``log_metrics`` names the columns still to be put in log space; a table whose synflow is
    already logged (NASLib's NB301 proxies) says so in its ``attrs``.
    """
    cols, notes = [], []
    for name, column in raw.items():
        values, note = normalise_column(name, column, log=name in log_metrics)
        cols.append(values)
        if note:
            notes.append(note)
    # column-major: X @ w then streams each metric column once (about 2x faster at 10^7 rows)
    values = np.asfortranarray(np.stack(cols, axis=1), dtype=np.float32) if cols else np.zeros((len(arch_ids), 0), np.float32)
    return MetricMatrix(np.asarray(arch_ids, dtype=np.int64), tuple(raw), values, tuple(notes))


def read_metric_table(
    source: str | os.PathLike | pd.DataFrame,
    metrics: list[str] | tuple[str, ...],
    *,
    dataset: str | None = None,
    num_archs: int | None = None,
) -> MetricMatrix:
    """Read a Parquet metric table (``arch_id`` + one column per metric) into a MetricMatrix.

    Args:
        source: a Parquet file or dataset directory, or a DataFrame.
        metrics: the columns to use, in this order.
        dataset: keep only rows of this dataset when the table has a ``dataset`` column
            (the published NB201 reference table holds all three).
        num_archs: when given, the table must cover exactly ids ``0 .. num_archs - 1``.

    Raises:
        RobotRayError: unreadable table, missing columns, unknown metrics, duplicate or missing ids.
    """
    if not metrics:
        raise RobotRayError("no metrics given: pass --metrics with at least one metric name")
    if isinstance(source, pd.DataFrame):
        table = source
        label = "metric table"
    else:
        label = str(source)
        if not os.path.exists(source):
            raise RobotRayError(f"metric table {label!r} does not exist: run `robot-ray precompute` or fix --cache")
        try:
            table = pd.read_parquet(source)
        except Exception as exc:  # pyarrow raises several types for corrupt files
            raise RobotRayError(f"cannot read metric table {label!r} as Parquet: {exc}") from exc
    if dataset is not None and "dataset" in table.columns:
        table = table[table["dataset"] == dataset]
        if table.empty:
            raise RobotRayError(f"metric table {label!r} has no rows for dataset {dataset!r}")
    id_col = next((c for c in ID_COLUMNS if c in table.columns), None)
    if id_col is None:
        raise RobotRayError(f"metric table {label!r} has no arch_id column; columns: {list(table.columns)}")
    unknown = [m for m in metrics if m not in table.columns]
    if unknown:
        skip = {id_col, "arch", "arch_str", "dataset"}
        have = [c for c in table.columns if c not in skip and not c.endswith("_time_s")]
        raise RobotRayError(
            f"unknown metric(s) {', '.join(unknown)} for {label!r}; this table has: {', '.join(have)}"
        )
    table = table.sort_values(id_col)
    ids = table[id_col].to_numpy(dtype=np.int64)
    if len(np.unique(ids)) != len(ids):
        raise RobotRayError(f"metric table {label!r} has duplicate arch ids: one row per architecture is required")
    if num_archs is not None and (len(ids) != num_archs or ids[0] != 0 or ids[-1] != num_archs - 1):
        raise RobotRayError(
            f"metric table {label!r} covers {len(ids)} archs, the benchmark has {num_archs}: "
            "finish the precompute (rerun it to resume) or pick the matching table"
        )
    raw = {m: pd.to_numeric(table[m], errors="coerce").to_numpy(dtype=np.float64) for m in metrics}
    log_metrics = frozenset(table.attrs.get(LOG_ATTR, LOG_METRICS))
    return normalise(ids, raw, log_metrics=log_metrics)
