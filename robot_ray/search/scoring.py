"""Scoring a weight vector over the pool: one float32 matrix-vector product, never a Python loop.

a(w) = argmax_i sum_m w_m X[i, m]. Ties go to the lowest row, in ``top1`` and in every ranking,
so the greedy stage and the BO stage agree on which architecture a weight vector induces.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np


def scores(X: np.ndarray, w: Sequence[float]) -> np.ndarray:
    """X (N, M) float32 times w (M,) -> (N,) float32."""
    w = np.asarray(w, dtype=np.float32)
    if w.shape != (X.shape[1],):
        raise ValueError(f"weight vector has {w.shape} entries, the metric matrix has {X.shape[1]} metrics")
    return X @ w


def top1(X: np.ndarray, w: Sequence[float]) -> int:
    """Row of the highest score (lowest row on ties)."""
    return int(np.argmax(scores(X, w)))


def ranking(X: np.ndarray, w: Sequence[float]) -> np.ndarray:
    """All rows, best first; ties keep row order."""
    return np.argsort(-scores(X, w), kind="stable")


def iter_ranked(X: np.ndarray, w: Sequence[float], *, chunk: int = 1024) -> Iterator[int]:
    """Rows best first, materialising only ``chunk`` of them at a time (argpartition per chunk).

    Yields the same order as :func:`ranking`, but a pool of 10^7 rows costs one score vector
    plus a partial sort of the prefix actually consumed.
    """
    s = scores(X, w)
    n = len(s)
    done = 0
    # Order key: (-score, row); rows already yielded are those with key < the last yielded key.
    order_key = np.lexsort((np.arange(n), -s)) if n <= chunk else None
    if order_key is not None:
        yield from (int(i) for i in order_key)
        return
    remaining = np.arange(n)
    while done < n:
        k = min(chunk, len(remaining))
        sub = s[remaining]
        if k < len(remaining):
            # every row scoring at least the k-th best: ties with it resolve by row, not by partition luck
            kth = -np.partition(-sub, k - 1)[k - 1]
            part = np.flatnonzero(sub >= kth)
        else:
            part = np.arange(len(remaining))
        rows = remaining[part]
        rows = rows[np.lexsort((rows, -s[rows]))]
        yield from (int(i) for i in rows)
        done += len(rows)
        mask = np.ones(len(remaining), dtype=bool)
        mask[part] = False
        remaining = remaining[mask]
