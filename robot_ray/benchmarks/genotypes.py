"""DARTS genotypes named by a search, not drawn from a pool: the ids of a live SWAP-NAS run's results.

A live SWAP-NAS search (:mod:`robot_ray.runs.swapnas_live`) evolves over the whole DARTS space, so
the genotypes it scores and the one it returns are in no pool or table. :class:`Genotypes` names
them for the result files: ids are positions in the list (a seed's genotypes in the order its
search first scored them), archs the canonical strings. Nothing is answered here: the returned
genotype was trained in a Tune trial (:mod:`robot_ray.train.final`) and its answer recorded in the
ledger directly, so :meth:`Genotypes.query` refuses.
"""

from __future__ import annotations

import numpy as np

from robot_ray.benchmarks.base import Benchmark, Query
from robot_ray.errors import RobotRayError
from robot_ray.spaces import darts

VALUE_NAME = "test_acc_final"
TEST_NAME = "test_acc_final (train_final: the DARTS evaluation protocol, test split)"


class Genotypes(Benchmark):
    """A list of DARTS genotypes (``(N, 32)`` compact codes), ids = positions.

    Args:
        codes: canonical compact codes, or :func:`~robot_ray.spaces.darts.arch_hash` strings.
        dataset: what the returned genotype was trained on.
    """

    space = darts.NAME
    value_name = VALUE_NAME
    test_name = TEST_NAME
    tabular = False

    def __init__(self, codes, dataset: str = "cifar10") -> None:
        if len(codes) and isinstance(codes[0], str):
            codes = [darts.encode(darts.from_hash(h)) for h in codes]
        self.codes = np.asarray(codes, dtype=np.int8).reshape(-1, darts.CODE_LENGTH)
        self.hashes = darts.codes_hashes(self.codes).tolist() if len(self.codes) else []
        self.dataset = dataset

    @property
    def num_archs(self) -> int:
        return len(self.codes)

    def arch(self, arch_id: int) -> str:
        return darts.format_genotype(darts.decode(self.codes[self.check_id(arch_id)]))

    def arch_id(self, arch: str) -> int:
        key = darts.arch_hash(arch)
        try:
            return self.hashes.index(key)
        except ValueError:
            raise RobotRayError(f"genotype {darts.canonical(arch)!r} is not among these {self.num_archs}") from None

    def query(self, arch_id: int) -> Query:
        raise RobotRayError("these genotypes have no table: a live SWAP-NAS search trains the one it returns "
                            "(robot-ray search --method swapnas --objective live --fitness live)")
