"""AxWeightSearcher contract: seeding, NaN results, save/restore, metric/mode errors, concurrency."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ray.tune.search import ConcurrencyLimiter, Searcher

from robot_ray.search.ax_searcher import AxWeightSearcher
from robot_ray.search.fanout import SeedFanoutSearcher

NAMES = ["synflow", "snip", "nwot"]


def objective(weights: dict) -> float:
    w = np.array([weights[n] for n in NAMES])
    return float(-np.sum((w - 0.3) ** 2))


def drive(searcher, n: int, start: int = 0) -> list[dict]:
    out = []
    for i in range(start, start + n):
        cfg = searcher.suggest(f"t{i}")
        out.append(cfg)
        searcher.on_trial_complete(f"t{i}", {"value": objective(cfg["weights"])})
    return out


def test_convert_search_space_is_static_and_bounded():
    params = AxWeightSearcher.convert_search_space(NAMES, (-1.0, 1.0))
    assert [p.name for p in params] == ["w_synflow", "w_snip", "w_nwot"]
    assert all(p.bounds == (-1.0, 1.0) for p in params)


def test_same_seed_same_proposals_and_bounds():
    a = drive(AxWeightSearcher(NAMES, metric="value", mode="max", seed=3, init_trials=2), 5)
    b = drive(AxWeightSearcher(NAMES, metric="value", mode="max", seed=3, init_trials=2), 5)
    c = drive(AxWeightSearcher(NAMES, metric="value", mode="max", seed=4, init_trials=2), 5)
    assert a == b and a != c
    assert all(-1 <= v <= 1 for cfg in a for v in cfg["weights"].values())


def test_save_restore_gives_the_same_next_suggestion(tmp_path):
    s = AxWeightSearcher(NAMES, metric="value", mode="max", seed=7, init_trials=2)
    drive(s, 4)
    s.save(str(tmp_path / "searcher.json"))
    restored = AxWeightSearcher(["x"])
    restored.restore(str(tmp_path / "searcher.json"))
    assert restored.suggest("t4") == s.suggest("t4")
    assert restored.proposals == s.proposals == 5


def test_max_proposals_finishes():
    s = AxWeightSearcher(NAMES, metric="value", mode="max", seed=0, max_proposals=2, init_trials=1)
    drive(s, 2)
    assert s.suggest("t2") == Searcher.FINISHED


def test_nan_and_errored_trials_are_marked_failed_not_fatal():
    s = AxWeightSearcher(NAMES, metric="value", mode="max", seed=1, init_trials=2)
    cfg = s.suggest("a")
    s.on_trial_complete("a", {"value": math.nan})
    s.suggest("b")
    s.on_trial_complete("b", None, error=True)
    s.on_trial_complete("b", {"value": 1.0})  # duplicate completion: logged and ignored
    s.on_trial_complete("zzz", {"value": 1.0})  # unknown trial: logged and ignored
    assert cfg is not None and s.suggest("c") is not None


def test_missing_metric_mode_names_both_fixes():
    s = AxWeightSearcher(NAMES, seed=0)
    with pytest.raises(RuntimeError, match="AxWeightSearcher.*tune.TuneConfig"):
        s.suggest("t0")
    assert s.set_search_properties("value", "max", {})
    assert s.suggest("t0") is not None


def test_concurrent_trials_under_concurrency_limiter():
    s = ConcurrencyLimiter(AxWeightSearcher(NAMES, metric="value", mode="max", seed=2, init_trials=3), max_concurrent=3)
    cfgs = [s.suggest(f"t{i}") for i in range(4)]
    assert all(c is not None for c in cfgs[:3]) and cfgs[3] is None  # the limiter's back-pressure
    for i in (1, 0, 2):  # out of order
        s.on_trial_complete(f"t{i}", {"value": objective(cfgs[i]["weights"])})
    more = [s.suggest(f"t{i}") for i in range(4, 7)]
    assert all(c is not None for c in more)
    assert len({tuple(c["weights"].values()) for c in cfgs[:3] + more}) == 6


def test_fanout_interleaving_does_not_change_a_seeds_proposals(tmp_path):
    alone = drive(AxWeightSearcher(NAMES, metric="value", mode="max", seed=5, init_trials=2), 3)
    fan = SeedFanoutSearcher(
        {s: AxWeightSearcher(NAMES, metric="value", mode="max", seed=s, init_trials=2, max_proposals=3) for s in (5, 6)},
        metric="value", mode="max",
    )
    got = {5: [], 6: []}
    pending = []
    for i in range(6):
        cfg = fan.suggest(f"f{i}")
        pending.append((f"f{i}", cfg))
        if len(pending) == 2 or i == 5:  # complete both seeds' trials together
            for tid, c in pending:
                got[c["seed"]].append({"weights": c["weights"], "proposal": c["proposal"]})
                fan.on_trial_complete(tid, {"value": objective(c["weights"])})
            pending = []
    assert got[5] == alone
    assert fan.suggest("end") == Searcher.FINISHED
    fan.save(str(tmp_path / "fan.json"))
    back = SeedFanoutSearcher({0: AxWeightSearcher(["x"])})
    back.restore(str(tmp_path / "fan.json"))
    assert back.finished and sorted(back.children) == [5, 6]
