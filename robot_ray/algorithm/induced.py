"""Which architecture each of many weight vectors induces: what the searcher needs to avoid repeats.

a(w) is piecewise constant in w, so most of the weight space maps onto a few architectures; a
weight vector whose a(w) was already queried teaches the GP nothing it did not know. The
searcher screens candidate weight vectors with :class:`InducedArchs` to propose only ones that
induce an unqueried architecture.

The fingerprint identifies a pool's content: a searcher restored from a checkpoint reloads its
matrix from the recorded source and refuses to continue on a different one.
"""

from __future__ import annotations

import hashlib

import numpy as np

from robot_ray.errors import RobotRayError

CELL_BUDGET = 64_000_000
"""Pool rows x candidates scored per call (about 0.1 s of BLAS): bounds the candidate count on
large pools instead of letting one proposal take seconds."""
ROW_CHUNK = 16_384


class InducedArchs:
    """a(w) for a batch of weight vectors over a metric matrix X (N, M), ties to the lowest row."""

    def __init__(self, X: np.ndarray, arch_ids: np.ndarray) -> None:
        if X.ndim != 2 or len(X) != len(arch_ids) or len(X) == 0:
            raise RobotRayError(f"metric matrix {X.shape} and {len(arch_ids)} arch ids do not form a pool")
        self.X = X
        self.arch_ids = np.asarray(arch_ids)

    @property
    def num_archs(self) -> int:
        return len(self.X)

    def max_candidates(self, requested: int) -> int:
        """How many candidates one proposal may screen on this pool (at least 16)."""
        return int(max(16, min(requested, CELL_BUDGET // self.num_archs)))

    def induce(self, W: np.ndarray) -> np.ndarray:
        """Arch ids of a(w) for each row of W (K, M), in row chunks so memory stays bounded."""
        W = np.asarray(W, dtype=np.float32)
        best = np.full(len(W), -np.inf, dtype=np.float32)
        rows = np.zeros(len(W), dtype=np.int64)
        for start in range(0, self.num_archs, ROW_CHUNK):
            # (K, chunk): each candidate's scores contiguous, so the argmax runs along rows (15x
            # faster than down the columns of (chunk, K) on NB201; first maximum = lowest row, as before)
            s = W @ self.X[start : start + ROW_CHUNK].T
            top = np.argmax(s, axis=1)
            val = s[np.arange(len(W)), top]
            better = val > best  # strict: an earlier chunk keeps a tie (lowest row wins)
            best[better] = val[better]
            rows[better] = top[better] + start
        return self.arch_ids[rows]


def fingerprint(X: np.ndarray, arch_ids: np.ndarray) -> str:
    """Content hash of a pool: a resumed searcher must score the same matrix it was built on."""
    h = hashlib.blake2b(digest_size=16)
    h.update(repr((X.shape, str(X.dtype))).encode())
    h.update(np.ascontiguousarray(X).tobytes())
    h.update(np.ascontiguousarray(arch_ids, dtype=np.int64).tobytes())
    return h.hexdigest()


LOCAL_SD = 0.1
"""Spread of the local candidates around a repeated proposal, as a fraction of the weight range."""


def candidate_weights(w0: np.ndarray, k: int, bounds: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    """2k float32 candidate weight vectors: k quasi-random over the box, k around ``w0``.

    What replaces a proposal that repeats a known architecture: the spread finds other
    regions, the local ones the neighbouring cells of the piecewise-constant a(w).
    """
    lo, hi = bounds
    m = len(w0)
    spread = sobol_weights(m, k, bounds, rng)
    local = np.clip(np.asarray(w0) + rng.normal(0.0, LOCAL_SD * (hi - lo), size=(k, m)), lo, hi)
    return np.concatenate([spread, local]).astype(np.float32)


def sobol_weights(m: int, k: int, bounds: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    """k quasi-random weight vectors over the box ``bounds^m`` (float64), seeded from ``rng``."""
    from scipy.stats import qmc

    lo, hi = bounds
    return qmc.Sobol(m, seed=rng).random(k) * (hi - lo) + lo


def one_hot_weights(m: int, bounds: tuple[float, float]) -> np.ndarray:
    """The m corners (m, m): row n weighs metric n alone (the top bound; the others 0, or the
    bound nearest 0 when 0 is outside the box)."""
    lo, hi = bounds
    corners = np.full((m, m), min(max(0.0, lo), hi))
    np.fill_diagonal(corners, hi)
    return corners
