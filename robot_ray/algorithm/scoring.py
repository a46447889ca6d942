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
    """Rows best first, materialising only ``chunk`` of them at a time (a partition per chunk).

    Yields the same order as :func:`ranking` (NaN scores last, in row order), but a pool of 10^7
    rows costs the N float32 scores plus, per chunk consumed, one float32 partition buffer and a
    boolean mask; never an N-row index array. The greedy stage consumes one chunk or a few.
    """
    s = scores(X, w)
    n = len(s)
    if n <= chunk:
        yield from (int(i) for i in np.lexsort((np.arange(n), -s)))
        return
    # Every chunk takes all rows scoring at least its k-th best (ties with it included, ordered
    # by row), so the rows not yet yielded are exactly those scoring below the last threshold.
    below: float | None = None
    done = 0
    while True:
        buf = np.negative(s) if below is None else s[s < below]
        if below is not None:
            np.negative(buf, out=buf)
        if not len(buf):
            break
        k = min(chunk, len(buf))
        buf.partition(k - 1)
        kth = -buf[k - 1]
        del buf
        if np.isnan(kth):  # the k-th best is NaN: every finite row left comes in this chunk
            pick = s < below if below is not None else ~np.isnan(s)
        else:
            pick = s >= kth
            if below is not None:
                pick &= s < below
        rows = np.flatnonzero(pick)
        del pick
        if not len(rows):
            break
        rows = rows[np.lexsort((rows, -s[rows]))]
        yield from (int(i) for i in rows)
        done += len(rows)
        below = float(s[rows[-1]])
    if done < n:  # NaN scores rank last, as in ranking()
        yield from (int(i) for i in np.flatnonzero(np.isnan(s)))
