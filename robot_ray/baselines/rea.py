"""Regularised evolution on cell spaces, in two variants.

``variant="robot"`` (default) is the REA baseline of RoBoT's ``search_nb201.py``, so our numbers
are comparable with the paper's Table 2: a pot of ``int(T / 3)`` random archs; each step removes
the best arch of the pot, mutates one edge to a different op (the child must be new) and adds
the child to the pot.

``variant="tournament"`` is REA as in Real et al. (2019): a population of ``population_size``
archs; each step draws ``sample_size`` members without replacement, mutates the best of them and
appends the child; the oldest member dies when the population is full.

Deviations from RoBoT's code, both so that exactly T distinct archs are spent: the initial pot
is drawn without replacement, and a parent whose every neighbour was already queried is skipped
(RoBoT's loop would spin forever). When no parent is left, a uniformly random unseen arch is
drawn; ``extra["random_fills"]`` counts those draws.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from robot_ray.benchmarks.base import TabularBenchmark
from robot_ray.errors import RobotRayError
from robot_ray.metrics.matrix import MetricMatrix
from robot_ray.baselines._common import new_ledger, random_unseen, reject_options, score
from robot_ray.algorithm.encoding import cell_encoding
from robot_ray.algorithm.ledger import RunResult

NAME = "rea"
VARIANTS = ("robot", "tournament")


def run(
    benchmark: TabularBenchmark,
    budget: int,
    seed: int,
    *,
    metrics: MetricMatrix | None = None,
    variant: str = "robot",
    population_size: int | None = None,
    sample_size: int = 3,
    ops: tuple[str, ...] | None = None,
    **options,
) -> RunResult:
    """Run REA for ``budget`` distinct queries. ``metrics`` is ignored.

    Args:
        variant: ``"robot"`` (RoBoT's baseline) or ``"tournament"`` (Real et al.).
        population_size: pot / population size; default ``max(1, int(T / 3))`` as in RoBoT.
        sample_size: tournament size (tournament variant only).
        ops: op names of the cell space; default read from the pool.

    Raises:
        RobotRayError: not a cell space, unknown variant, bad sizes or options.
    """
    reject_options(NAME, options, ("variant", "population_size", "sample_size", "ops"))
    if variant not in VARIANTS:
        raise RobotRayError(f"unknown REA variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    ledger = new_ledger(benchmark, budget, NAME)
    enc = cell_encoding(benchmark, ops=ops)
    pot = max(1, int(ledger.budget / 3)) if population_size is None else int(population_size)
    if not 1 <= pot <= ledger.budget:
        raise RobotRayError(f"population_size must be in 1..budget ({ledger.budget}), got {population_size}")
    if sample_size < 1:
        raise RobotRayError(f"sample_size must be at least 1, got {sample_size}")
    rng = np.random.default_rng(seed)
    fills = 0
    members: list[tuple[float, int]] = []  # (score, arch id), insertion order = age
    for arch_id in rng.choice(benchmark.num_archs, size=pot, replace=False):
        answer, _ = ledger.query(int(arch_id), stage=NAME)
        members.append((score(answer.value), int(arch_id)))

    def add(arch_id: int) -> tuple[float, int]:
        answer, _ = ledger.query(arch_id, stage=NAME)
        return score(answer.value), arch_id

    if variant == "robot":
        while not ledger.exhausted:
            if not members:
                members.append(add(random_unseen(ledger, rng)))
                fills += 1
                continue
            members.sort(key=lambda m: -m[0])  # stable: ties keep age order, as sorted() in RoBoT
            _, parent = members.pop(0)
            child = enc.mutate(parent, rng, exclude=ledger.seen)
            if child is not None:
                members.append(add(child))
    else:
        population = deque(members, maxlen=pot)
        while not ledger.exhausted:
            k = min(sample_size, len(population))
            picks = rng.choice(len(population), size=k, replace=False)
            parent = max((population[int(i)] for i in picks), key=lambda m: m[0])[1]
            child = enc.mutate(parent, rng, exclude=ledger.seen)
            if child is None:
                child = random_unseen(ledger, rng)
                fills += 1
            population.append(add(child))  # deque(maxlen) drops the oldest
    return RunResult(seed=seed, ledger=ledger, extra={"random_fills": fills, "variant": variant})

