"""RoBoT's steps shared by the plain loop and the Ray path, so both run the same algorithm.

explore: a(w) = the pool's argmax of X.w; exploit: the next-ranked unseen architectures under
the best weight vector (chosen by the searcher: highest queried value, the later proposal on a
tie, as in the paper's code).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from robot_ray.algorithm.scoring import iter_ranked, top1


def weight_vector(weights: Mapping[str, float], names: Sequence[str]) -> np.ndarray:
    """The weight dict of a Tune config as a float32 vector in metric-column order."""
    return np.array([weights[n] for n in names], dtype=np.float32)


def explore_arch(X: np.ndarray, arch_ids: np.ndarray, w: Sequence[float]) -> int:
    """Benchmark id of a(w)."""
    return int(arch_ids[top1(X, w)])


def greedy_candidates(
    X: np.ndarray, arch_ids: np.ndarray, w: Sequence[float], seen: Iterable[int], count: int
) -> list[int]:
    """The first ``count`` benchmark ids of the ranking under ``w`` that are not in ``seen``.

    Decided before anything is evaluated, so evaluating them concurrently cannot change which
    architectures count toward the budget.
    """
    seen = set(int(s) for s in seen)
    out: list[int] = []
    if count <= 0:
        return out
    for row in iter_ranked(X, w):
        aid = int(arch_ids[row])
        if aid not in seen:
            out.append(aid)
            if len(out) == count:
                break
    return out
