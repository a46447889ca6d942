"""Where a search's metric matrix comes from, as data: one loader for every caller.

A :class:`MetricSource` names a space, a dataset, the metric columns and one of: a robot-ray
cache directory (``robot-ray precompute``), any Parquet metric table (``arch_id`` + one column
per metric), or nothing (the space's published table in the data directory). :meth:`load`
returns the normalised :class:`~robot_ray.metrics.matrix.MetricMatrix` with the source and the
architecture names attached, so a searcher built on it can write the *source* into its
checkpoint (a few hundred bytes) instead of the matrix (440 MB at 10^7 rows) and reload it in a
fresh process (``Tuner.restore``), checked against the matrix's fingerprint.

The search CLI, ``compare``, the embedded demo and :func:`robot_ray.load_metrics` all load
through here, so every path makes the same checks (space, id kind, coverage).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from robot_ray.benchmarks import Benchmark, get_benchmark
from robot_ray.errors import RobotRayError
from robot_ray.io.state import check_version
from robot_ray.metrics.matrix import MetricMatrix, read_metric_table

SOURCE_VERSION = 1
MANIFEST = "_manifest.json"


@dataclass(frozen=True)
class MetricSource:
    """A reloadable reference to a metric matrix (paths are absolute, so workers and restores find them).

    Attributes:
        space: ``nb201``, ``tnb101_micro`` or ``darts``.
        metrics: the metric columns, in weight order.
        dataset: the dataset (a task, for TNB101) whose published scores to read, and the one
            the architecture names and benchmark checks are for.
        cache: a robot-ray cache directory or a Parquet metric table; None = the published table.
        data_dir: the shared data directory; None takes ``$ROBOT_RAY_DATA`` if set (else none is
            needed), and either is recorded as an absolute path.
    """

    space: str
    metrics: tuple[str, ...]
    dataset: str
    cache: str | None = None
    data_dir: str | None = None

    def __post_init__(self) -> None:
        names = tuple(self.metrics)
        if not names:
            raise RobotRayError("no metrics given: pass metric names, e.g. ['synflow', 'snip', 'nwot', 'zen']")
        if len(set(names)) != len(names):
            raise RobotRayError(f"metric names {list(names)} name a metric twice")
        object.__setattr__(self, "metrics", names)
        if self.cache is not None and "://" not in str(self.cache):
            object.__setattr__(self, "cache", str(Path(self.cache).expanduser().resolve()))
        if self.data_dir is None or "://" not in str(self.data_dir):
            # recorded as found now (flag or $ROBOT_RAY_DATA), absolute: a restore elsewhere reads the same
            from robot_ray.data import resolve_data_dir

            found = resolve_data_dir(self.data_dir, required=False)
            object.__setattr__(self, "data_dir", None if found is None else str(found.resolve()))

    def to_json(self) -> dict[str, Any]:
        return {"version": SOURCE_VERSION, **asdict(self), "metrics": list(self.metrics)}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> MetricSource:
        check_version(raw, kind="metric source", supported=[SOURCE_VERSION])
        return cls(raw["space"], tuple(raw["metrics"]), raw["dataset"], raw.get("cache"), raw.get("data_dir"))

    @property
    def is_cache_dir(self) -> bool:
        return self.cache is not None and Path(self.cache, MANIFEST).is_file()

    def benchmark(self) -> Benchmark:
        """What names the rows: the space's benchmark table, or the cache's own pool."""
        if self.is_cache_dir:
            from robot_ray.cache import Manifest

            ids = Manifest.load(self.cache).settings.ids
            if ids == "pool":
                from robot_ray.benchmarks.pool import DartsPool

                return DartsPool.from_cache(self.cache, self.dataset)
            if ids == "product":
                from robot_ray.benchmarks.nb201 import ProductPool

                return ProductPool(self.dataset)
        return get_benchmark(self.space, self.dataset, self.data_dir)

    def load(self, benchmark: Benchmark | None = None) -> MetricMatrix:
        """The normalised matrix, with this source and the benchmark naming its rows attached.

        Args:
            benchmark: the benchmark the search queries, if the caller has it already (checked
                against the cache: space and id kind).
        """
        names = list(self.metrics)
        if self.is_cache_dir:
            from robot_ray.cache import Manifest, read_cache_matrix

            bench = benchmark or self.benchmark()
            check_cache_matches(Manifest.load(self.cache).settings.to_json(), bench, self.cache)
            # shard by shard into one float32 matrix: no DataFrame of the pool, no float64 copy
            matrix = read_cache_matrix(self.cache, names)
        elif self.cache is not None:
            bench = benchmark
            matrix = read_metric_table(_table_rows(self.cache, self.dataset), names, dataset=self.dataset)
        else:
            bench = benchmark
            table = published_metric_table(self.space, self.dataset, self.data_dir, names)
            matrix = read_metric_table(table, names, dataset=self.dataset)
        if bench is None:
            bench = self.benchmark()
        check_ids(matrix, bench, self.cache or "the published metric table")
        return replace(matrix, source=self, archs=bench)


def load_metrics(
    space: str,
    metrics: list[str] | tuple[str, ...],
    *,
    dataset: str = "cifar10",
    cache: str | os.PathLike | None = None,
    data_dir: str | os.PathLike | None = None,
) -> MetricMatrix:
    """Load the normalised metric matrix of a search space (the public entry point).

    Args:
        space: ``nb201``, ``tnb101_micro`` or ``darts``.
        metrics: metric names, e.g. ``["synflow", "snip", "nwot", "zen"]``.
        dataset: dataset (TNB101: task) of the published scores and the benchmark.
        cache: a ``robot-ray precompute`` cache directory or a Parquet table; default the
            space's published scores in the data directory.
        data_dir: the shared data directory; default ``$ROBOT_RAY_DATA``.

    Raises:
        RobotRayError: unknown space or metric, missing data, a cache of another space.
    """
    if not isinstance(space, str):
        hint = f": pass its name, {space.space!r}" if isinstance(getattr(space, "space", None), str) else ""
        raise RobotRayError(f"load_metrics takes a search space name (nb201, tnb101_micro, darts), got a "
                            f"{type(space).__name__}{hint}")
    if isinstance(metrics, str):
        metrics = [m.strip() for m in metrics.split(",") if m.strip()]
    return MetricSource(space, tuple(metrics), dataset, None if cache is None else str(cache),
                        None if data_dir is None else str(data_dir)).load()


def _table_rows(path: str, dataset: str) -> Any:
    """A Parquet metric table; a TNB101-style table with a ``task`` column is cut to one task."""
    import pandas as pd

    if not Path(path).exists():
        raise RobotRayError(f"metric table {path!r} does not exist: run `robot-ray precompute` or fix the cache path")
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise RobotRayError(f"cannot read metric table {path!r} as Parquet: {exc}") from exc
    if "task" in frame.columns and "dataset" not in frame.columns:
        frame = frame[frame["task"] == dataset]
        if frame.empty:
            raise RobotRayError(f"metric table {path!r} has no rows for task {dataset!r}")
    return frame


def published_metric_table(space: str, dataset: str, data_dir: str | os.PathLike | None, metrics) -> Any:
    """The published metric table of a space (a path or DataFrame for ``read_metric_table``).

    NB201: the reference scores (all three datasets; filtered by dataset). DARTS: NB301-725's 12
    proxies. TNB101: the task's full-coverage proxies plus our params/flops.
    """
    if space == "nb201":
        from robot_ray.data import data_file

        return data_file(data_dir, "nasbench201", "reference_metrics.parquet")
    if space == "darts":
        from robot_ray.benchmarks.nb301 import metric_table

        return metric_table(data_dir, list(metrics))
    if space == "tnb101_micro":
        from robot_ray.metrics.tnb101_table import metric_table

        return metric_table(data_dir, dataset)
    raise RobotRayError(f"no published metric table for space {space!r}: pass a metric cache")


def check_cache_matches(settings: dict[str, Any], benchmark: Benchmark, path: str) -> None:
    """A cache computed for another space, or keyed by other ids, would be silently wrong: refuse it.

    The metrics' dataset may differ from the benchmark's (e.g. CIFAR-100 metrics searched against
    the paper's CIFAR-10 objective); that is the user's choice and is recorded in the summary.
    """
    space = settings.get("space")
    if space is not None and space != benchmark.space:
        raise RobotRayError(
            f"cache {path!r} holds {space} architectures, the search is over {benchmark.space}: "
            f"search space {space} or use a cache precomputed for {benchmark.space}"
        )
    ids = settings.get("ids")
    if benchmark.tabular and ids in ("product", "pool"):
        hint = (
            "precompute it with a data directory so its ids are the official NB201 ones"
            if benchmark.space == "nb201" else "its ids are rows of its own sampled pool, not of the benchmark table"
        )
        raise RobotRayError(f"cache {path!r} is keyed by {ids} ids, the {benchmark.space} table by its own: {hint}")


def check_ids(matrix: MetricMatrix, benchmark: Benchmark, label: str) -> None:
    """Every row must name an architecture of the benchmark (a table of another space would not)."""
    ids = matrix.arch_ids
    if len(ids) and (ids.min() < 0 or ids.max() >= benchmark.num_archs):
        raise RobotRayError(
            f"metric ids of {label} span {ids.min()}..{ids.max()}, outside the {benchmark.space} "
            f"benchmark's 0..{benchmark.num_archs - 1}: the table belongs to another space"
        )
