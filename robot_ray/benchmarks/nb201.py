"""NAS-Bench-201 table (``nasbench201/benchmark.parquet``) as a :class:`TabularBenchmark`.

By default the objective is the paper's: CIFAR-10 12-epoch validation accuracy and its cost
(``robot_query_val_acc``, ``robot_query_cost_s``) whatever the dataset, with the dataset's own
200-epoch test accuracy reported. ``objective="dataset"`` queries the dataset's own
12-epoch validation accuracy and time instead.
"""

from __future__ import annotations

import os
from functools import lru_cache

import pandas as pd

from robot_ray.benchmarks.base import Benchmark, Query, TabularBenchmark
from robot_ray.data import data_file
from robot_ray.errors import RobotRayError
from robot_ray.spaces import nb201

DATASETS: tuple[str, ...] = ("cifar10", "cifar100", "ImageNet16-120")
_ALIASES = {d.lower(): d for d in DATASETS} | {"imagenet16": "ImageNet16-120", "in16": "ImageNet16-120"}
OBJECTIVES = {
    "robot": ("robot_query_val_acc", "robot_query_cost_s"),
    "dataset": ("val_acc_12ep", "val_time_12ep_s"),
}


def canonical_dataset(name: str) -> str:
    try:
        return _ALIASES[name.lower()]
    except KeyError:
        raise RobotRayError(
            f"unknown NB201 dataset {name!r}; choose one of {', '.join(DATASETS)}"
        ) from None


@lru_cache(maxsize=2)
def _read(path: str) -> pd.DataFrame:
    return pd.read_parquet(path)


def load_table(data_dir: str | os.PathLike | None) -> pd.DataFrame:
    """The raw NB201 table (46,875 rows), read once per process."""
    return _read(str(data_file(data_dir, "nasbench201", "benchmark.parquet")))


@lru_cache(maxsize=4)
def official_arch_strings(data_dir: str) -> tuple[str, ...]:
    """The 15,625 cell strings in official NB201 index order, read from the benchmark table."""
    table = load_table(data_dir)
    first = table[table["dataset"] == "cifar10"].sort_values("arch_index")
    return tuple(first["arch_str"].tolist())


def load(data_dir: str | os.PathLike | None, dataset: str = "cifar10", *, objective: str = "robot") -> TabularBenchmark:
    """NB201 benchmark for one dataset.

    Raises:
        RobotRayError: unknown dataset or objective, missing data directory or file.
    """
    dataset = canonical_dataset(dataset)
    if objective not in OBJECTIVES:
        raise RobotRayError(f"unknown NB201 objective {objective!r}; choose one of {', '.join(OBJECTIVES)}")
    value_col, cost_col = OBJECTIVES[objective]
    table = load_table(data_dir)
    rows = table[table["dataset"] == dataset].sort_values("arch_index")
    if len(rows) != nb201.NUM_ARCHS or not (rows["arch_index"].to_numpy() == range(nb201.NUM_ARCHS)).all():
        raise RobotRayError(
            f"nasbench201/benchmark.parquet has {len(rows)} rows for {dataset}, expected arch_index 0..{nb201.NUM_ARCHS - 1}"
        )
    return TabularBenchmark(
        space=nb201.NAME,
        dataset=dataset,
        archs=rows["arch_str"].tolist(),
        values=rows[value_col].to_numpy(),
        test_values=rows["test_acc_200ep"].to_numpy(),
        costs=rows[cost_col].to_numpy(),
        value_name=value_col,
        test_name="test_acc_200ep",
        canonicalize=nb201.canonical,
    )


class ProductPool(Benchmark):
    """NB201 cells named by product index (no table needed), answered only by a live objective.

    What a cache precomputed without the benchmark table (``ids="product"``) is keyed by.
    """

    space = nb201.NAME
    value_name = "val_acc_live"
    test_name = "test_acc_live"
    tabular = False

    def __init__(self, dataset: str = "digits") -> None:
        self.dataset = dataset

    @property
    def num_archs(self) -> int:
        return nb201.NUM_ARCHS

    def arch(self, arch_id: int) -> str:
        return nb201.format_arch(nb201.from_product_index(self.check_id(arch_id)))

    def arch_id(self, arch: str) -> int:
        return nb201.product_index(nb201.parse_arch(arch))

    def query(self, arch_id: int) -> Query:
        raise RobotRayError(
            "NB201 cells named by product index have no table: they are evaluated by training them "
            "(a live objective), or search a cache precomputed with the benchmark table (official ids)"
        )
