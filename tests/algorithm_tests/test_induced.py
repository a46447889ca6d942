"""a(w) for many weight vectors at once equals the trial's own argmax, across row chunks and ties."""

from __future__ import annotations

import numpy as np

import robot_ray as rr
from robot_ray.algorithm import induced
from robot_ray.algorithm.scoring import top1


def test_induced_archs_match_the_trials_argmax_in_chunks(data_dir, monkeypatch):
    matrix = rr.load_metrics("nb201", ["synflow", "snip", "nwot", "zen"], dataset="cifar100", data_dir=data_dir)
    monkeypatch.setattr(induced, "ROW_CHUNK", 1000)  # many chunks, ties across chunk borders
    pool = induced.InducedArchs(matrix.values, matrix.arch_ids)
    W = np.random.default_rng(0).uniform(-1, 1, (64, 4)).astype(np.float32)
    W[0] = 0.0  # every arch scores 0: the tie goes to the lowest row, as in the trial
    expected = [int(matrix.arch_ids[top1(matrix.values, w)]) for w in W]
    assert pool.induce(W).tolist() == expected
