"""WeightGP, the default BO engine: it optimises, it is reproducible and restorable, it spreads
concurrent proposals, and it refuses bad settings. On smooth test functions, in milliseconds."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from robot_ray.algorithm.weight_gp import WeightGP
from robot_ray.errors import RobotRayError

NAMES = ["a", "b", "c"]
PEAK = np.array([0.6, -0.4, 0.2])


def f(w: dict[str, float]) -> float:
    """A smooth function with its maximum (1.0) at PEAK inside the box."""
    x = np.array([w[n] for n in NAMES])
    return float(math.exp(-0.5 * np.sum((x - PEAK) ** 2)))


def run(bo: WeightGP, rounds: int, fn=f) -> list[float]:
    values = []
    for n in range(rounds):
        with bo.proposing(n):
            index, weights = bo.next_weights(n)
        values.append(fn(weights))
        bo.complete(index, values[-1])
    return values


def test_the_gp_learns_the_function_from_its_observations():
    """After 20 proposals the posterior mean ranks held-out points as the function does."""
    from scipy.stats import spearmanr

    bo = WeightGP(NAMES, seed=0, initial="sobol")
    run(bo, 20)
    held_out = np.random.default_rng(1).uniform(-1, 1, (200, 3))
    with bo.proposing(20):
        gp = bo._fit(20)
    mean, _ = bo._predict(gp, held_out)
    truth = [f(dict(zip(NAMES, w))) for w in held_out]
    assert spearmanr(mean, truth).statistic > 0.9


def test_logei_finds_the_peak_of_a_smooth_function():
    best = [max(run(WeightGP(NAMES, seed=s, acquisition="logei", initial="sobol"), 15)) for s in range(3)]
    assert min(best) > 0.98


def test_mode_min_minimises():
    values = run(WeightGP(NAMES, seed=1, mode="min", acquisition="logei", initial="sobol"), 15, lambda w: -f(w))
    assert min(values) < -0.98


def test_corners_come_first():
    bo = WeightGP(NAMES, seed=0, bounds=(-1.0, 1.0))
    proposals = []
    for n in range(3):
        with bo.proposing(n):
            index, weights = bo.next_weights(n)
        bo.complete(index, 0.5)
        proposals.append([weights[m] for m in NAMES])
    assert proposals == np.eye(3).tolist()


def test_same_seed_same_proposals_and_a_snapshot_continues_exactly():
    live, other = WeightGP(NAMES, seed=3), WeightGP(NAMES, seed=3)
    run(live, 8), run(other, 8)
    snap = json.loads(json.dumps(live.snapshot()))  # what the searcher's JSON state holds
    restored = WeightGP(NAMES, seed=3)
    restored.load_snapshot(snap)
    with live.proposing(8), other.proposing(8), restored.proposing(8):
        assert live.next_weights(8) == other.next_weights(8) == restored.next_weights(8)
    assert run(WeightGP(NAMES, seed=4), 8) != run(WeightGP(NAMES, seed=3), 8)


def test_pending_points_spread_concurrent_proposals():
    """Kriging believer: a proposal made while another is running lands elsewhere."""
    bo = WeightGP(NAMES, seed=5, initial="sobol")
    run(bo, 8)
    with bo.proposing(8):
        first, w1 = bo.next_weights(8)
    with bo.proposing(9):
        second, w2 = bo.next_weights(9)
    d = np.linalg.norm(np.array([w1[m] for m in NAMES]) - np.array([w2[m] for m in NAMES]))
    assert first != second and d > 0.05


def test_failed_and_abandoned_trials_are_no_observations():
    bo = WeightGP(NAMES, seed=6, initial="sobol")
    run(bo, 4)
    with bo.proposing(4):
        index, _ = bo.next_weights(4)
    bo.fail(index, "trial errored")
    with bo.proposing(5):
        index, _ = bo.next_weights(5)
    bo.abandon(index)
    snap = bo.snapshot()
    assert [t[1] for t in snap["trials"]][-2:] == ["failed", "abandoned"]
    assert snap["trials"][-1][2] is None  # JSON-safe: no NaN


def test_ucb_needs_a_gp_and_ranks_candidates():
    bo = WeightGP(NAMES, seed=7, initial="sobol")
    with bo.proposing(0):
        assert bo.ucb(np.zeros((2, 3))) is None  # no observation yet
    run(bo, 10)
    with bo.proposing(10):
        ucb = bo.ucb(np.array([PEAK, -PEAK]))
    assert ucb.shape == (2,) and ucb[0] > ucb[1]


@pytest.mark.parametrize("kwargs, message", [
    ({"acquisition": "pi"}, "unknown acquisition 'pi'"),
    ({"initial": "grid"}, "unknown initial design 'grid'"),
    ({"bounds": (1.0, -1.0)}, "low < high"),
    ({"init_trials": 0}, "init_trials must be at least 1"),
    ({"mode": "up"}, "mode must be 'max' or 'min'"),
    ({"ucb_beta": float("nan")}, "ucb_beta must be a finite number"),
    ({"candidates": 3}, "at least 16 candidates"),
])
def test_bad_settings_are_clear_errors(kwargs, message):
    with pytest.raises(RobotRayError, match=message):
        WeightGP(NAMES, seed=0, **kwargs)


def test_a_snapshot_of_another_version_is_refused():
    bo = WeightGP(NAMES, seed=0)
    with pytest.raises(RobotRayError, match="version"):
        bo.load_snapshot({"version": 99, "trials": []})
