"""NAS-Bench-301 sample (``darts_nb301/benchmark.parquet``, 725 DARTS genotypes) as a benchmark.

The value is ``val_acc_surrogate``: CIFAR-10 validation accuracy (%) *predicted by the
NAS-Bench-301 surrogate*, not a trained run. No test accuracy exists for these genotypes, so
``test_values`` repeats the surrogate value (``test_name`` says so); no training time exists
either, so costs are NaN. Ids are the table's ``arch_index`` (0..724, source row order) and
archs are canonical genotype strings (:func:`robot_ray.spaces.darts.canonical`), so any
equivalent spelling of a genotype finds its id.

The table also carries NASLib's 12 zero-cost proxies for every row; :func:`metric_table`
returns them in the metric-table format (``arch_id`` + one column per metric).
"""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np
import pandas as pd

from robot_ray.benchmarks.base import TabularBenchmark
from robot_ray.data import data_file
from robot_ray.errors import RobotRayError
from robot_ray.spaces import darts

TABLE_PARTS = ("darts_nb301", "benchmark.parquet")
NUM_ARCHS = 725
DATASETS: tuple[str, ...] = ("cifar10",)
VALUE_NAME = "val_acc_surrogate"
TEST_NAME = "val_acc_surrogate (no test value exists)"
PUBLISHED_METRICS: tuple[str, ...] = (
    "flops", "params", "synflow", "grasp", "fisher", "grad_norm",
    "l2_norm", "plain", "nwot", "epe_nas", "jacov", "snip",
)
"""NASLib zero-cost proxies published for all 725 rows (raw values, as in the source)."""


@lru_cache(maxsize=2)
def _read(path: str) -> pd.DataFrame:
    table = pd.read_parquet(path).sort_values("arch_index").reset_index(drop=True)
    if len(table) != NUM_ARCHS or not (table["arch_index"].to_numpy() == np.arange(NUM_ARCHS)).all():
        raise RobotRayError(f"{'/'.join(TABLE_PARTS)} has {len(table)} rows, expected arch_index 0..{NUM_ARCHS - 1}")
    table["arch"] = [darts.canonical(g) for g in table["genotype"]]
    return table


def load_table(data_dir: str | os.PathLike | None) -> pd.DataFrame:
    """The NB301 table sorted by ``arch_index``, plus an ``arch`` column of canonical genotypes."""
    return _read(str(data_file(data_dir, *TABLE_PARTS)))


def _check_dataset(dataset: str) -> str:
    if dataset.lower() not in DATASETS:
        raise RobotRayError(f"the NB301 sample has CIFAR-10 values only; got dataset {dataset!r}, use cifar10")
    return "cifar10"


def load(data_dir: str | os.PathLike | None, dataset: str = "cifar10") -> TabularBenchmark:
    """The 725-genotype NB301 benchmark (surrogate CIFAR-10 validation accuracy, NaN cost).

    Raises:
        RobotRayError: dataset other than cifar10, missing data directory or file.
    """
    dataset = _check_dataset(dataset)
    table = load_table(data_dir)
    values = table[VALUE_NAME].to_numpy(dtype=np.float64)
    return TabularBenchmark(
        space=darts.NAME,
        dataset=dataset,
        archs=table["arch"].tolist(),
        values=values,
        test_values=values.copy(),
        costs=np.full(len(table), np.nan),
        value_name=VALUE_NAME,
        test_name=TEST_NAME,
        canonicalize=darts.canonical,
    )


def metric_table(data_dir: str | os.PathLike | None, metrics: tuple[str, ...] | list[str] = PUBLISHED_METRICS) -> pd.DataFrame:
    """``arch_id``, ``arch`` and the published proxies, for :func:`robot_ray.metrics.matrix.read_metric_table`.

    Raises:
        RobotRayError: a metric that the table does not publish.
    """
    unknown = [m for m in metrics if m not in PUBLISHED_METRICS]
    if unknown:
        raise RobotRayError(f"NB301 publishes no metric {', '.join(unknown)}; it has: {', '.join(PUBLISHED_METRICS)}")
    table = load_table(data_dir)
    out = table[["arch_index", "arch", *metrics]].rename(columns={"arch_index": "arch_id"})
    out["arch_id"] = out["arch_id"].astype(np.int64)
    out = out.reset_index(drop=True)
    # NASLib's NB301 synflow is already in log space (values 30..118): do not log it again
    from robot_ray.metrics.matrix import LOG_ATTR

    out.attrs[LOG_ATTR] = []
    return out
