"""AxWeightSearcher contract: seeding, NaN results, save/restore, metric/mode errors, concurrency."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ray.tune.search import ConcurrencyLimiter, Searcher

from robot_ray.tune.weight_searcher import AxWeightSearcher
from robot_ray.tune.fanout import SeedFanoutSearcher

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
    a = drive(AxWeightSearcher(NAMES, metric="value", mode="max", seed=3, init_trials=2, initial="sobol"), 5)
    b = drive(AxWeightSearcher(NAMES, metric="value", mode="max", seed=3, init_trials=2, initial="sobol"), 5)
    c = drive(AxWeightSearcher(NAMES, metric="value", mode="max", seed=4, init_trials=2, initial="sobol"), 5)
    assert a == b and a != c
    assert all(-1 <= v <= 1 for cfg in a for v in cfg["weights"].values())


def test_corners_first_then_the_gp():
    s = AxWeightSearcher(NAMES, metric="value", mode="max", seed=3, init_trials=2)
    got = drive(s, 5)
    assert [c["weights"] for c in got[:3]] == [
        {"synflow": 1.0, "snip": 0.0, "nwot": 0.0}, {"synflow": 0.0, "snip": 1.0, "nwot": 0.0},
        {"synflow": 0.0, "snip": 0.0, "nwot": 1.0},
    ]
    assert len({tuple(c["weights"].values()) for c in got}) == 5  # the GP takes over after the corners
    with pytest.raises(Exception, match="unknown initial design 'grid'"):
        AxWeightSearcher(NAMES, initial="grid")


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


# -- the repeat-aware rule, on the real NB201 table ----------------------------------------------
NB201_METRICS = ["synflow", "snip", "nwot", "zen"]


@pytest.fixture(scope="module")
def cifar100(data_dir):
    from robot_ray.benchmarks import get_benchmark
    from robot_ray.metrics.matrix import read_metric_table

    bench = get_benchmark("nb201", "cifar100", data_dir)
    matrix = read_metric_table(data_dir / "nasbench201" / "reference_metrics.parquet", NB201_METRICS, dataset="cifar100")
    return bench, matrix


def drive_pool(searcher, bench, matrix, n: int, start: int = 0) -> list[int]:
    """Propose n times, answering each proposal with the benchmark value of the arch it induces."""
    from robot_ray.algorithm.weights import explore_arch, weight_vector

    archs = []
    for i in range(start, start + n):
        cfg = searcher.suggest(f"t{i}")
        aid = explore_arch(matrix.values, matrix.arch_ids, weight_vector(cfg["weights"], NB201_METRICS))
        archs.append(aid)
        searcher.on_trial_complete(f"t{i}", {"value": bench.query(aid).value})
    return archs


def test_novel_rule_proposes_only_unqueried_archs_where_the_paper_rule_repeats(cifar100):
    from robot_ray.algorithm.induced import InducedArchs

    bench, matrix = cifar100
    pool = InducedArchs(matrix.values, matrix.arch_ids)
    # seed 12 on CIFAR-100 is where GP-UCB in weight space re-proposes one architecture over and over
    keep = drive_pool(AxWeightSearcher(NB201_METRICS, metric="value", mode="max", seed=12, pool=pool, repeats="keep",
                                         initial="sobol"),
                      bench, matrix, 10)
    novel_searcher = AxWeightSearcher(NB201_METRICS, metric="value", mode="max", seed=12, pool=pool, initial="sobol")
    novel = drive_pool(novel_searcher, bench, matrix, 10)
    assert len(set(keep)) < len(keep), "the paper's rule should repeat here, or this test shows nothing"
    assert len(set(novel)) == len(novel) == 10
    assert novel_searcher.replaced >= 1 and novel_searcher.repeats == "novel"
    assert novel[0] == keep[0]  # same first (quasi-random) proposal: the rule only acts on repeats


def test_novel_rule_save_restore_gives_the_same_next_suggestion(cifar100, tmp_path, monkeypatch):
    from robot_ray.errors import RobotRayError
    from robot_ray.algorithm import induced as pools

    bench, matrix = cifar100
    pool = pools.InducedArchs(matrix.values, matrix.arch_ids)
    s = AxWeightSearcher(NB201_METRICS, metric="value", mode="max", seed=12, pool=pool)
    drive_pool(s, bench, matrix, 6)
    s.save(str(tmp_path / "s.json"))
    restored = AxWeightSearcher(["x"])
    restored.restore(str(tmp_path / "s.json"))
    assert restored.replaced == s.replaced and restored.pool_key == pool.fingerprint
    assert drive_pool(restored, bench, matrix, 2, start=6) == drive_pool(s, bench, matrix, 2, start=6)
    # a process that has not loaded the same pool cannot continue the search: clear error, with the fix
    monkeypatch.setattr(pools, "_POOLS", {})
    with pytest.raises(RobotRayError, match="not loaded in this process.*--resume"):
        AxWeightSearcher(["x"]).restore(str(tmp_path / "s.json"))


def test_live_searcher_matches_one_restored_every_round(cifar100, tmp_path):
    """A live searcher refits its GP from scratch each round, so it proposes exactly the weights a
    searcher saved and restored before every round proposes (the guarantee resume relies on)."""
    from robot_ray.algorithm.induced import InducedArchs
    from robot_ray.algorithm.weights import explore_arch, weight_vector

    bench, matrix = cifar100
    pool = InducedArchs(matrix.values, matrix.arch_ids)
    live = AxWeightSearcher(NB201_METRICS, metric="value", mode="max", seed=12, pool=pool)
    hopping = AxWeightSearcher(NB201_METRICS, metric="value", mode="max", seed=12, pool=pool)
    for i in range(10):
        a, b = live.suggest(f"t{i}"), hopping.suggest(f"t{i}")
        assert a == b, f"round {i}"
        value = bench.query(explore_arch(matrix.values, matrix.arch_ids, weight_vector(a["weights"], NB201_METRICS))).value
        live.on_trial_complete(f"t{i}", {"value": value})
        hopping.on_trial_complete(f"t{i}", {"value": value})
        hopping.save(str(tmp_path / "s.json"))
        hopping = AxWeightSearcher(["x"])
        hopping.restore(str(tmp_path / "s.json"))
    assert hopping.replaced == live.replaced >= 1  # the novel rule's GP prediction was exercised too


def test_novel_rule_needs_the_pool_and_a_known_rule():
    from robot_ray.errors import RobotRayError

    with pytest.raises(RobotRayError, match="needs the pool"):
        AxWeightSearcher(NAMES, repeats="novel")
    with pytest.raises(RobotRayError, match="unknown repeat rule 'skip'"):
        AxWeightSearcher(NAMES, repeats="skip")
    assert AxWeightSearcher(NAMES).repeats == "keep"


def test_induced_archs_match_the_trials_argmax_in_chunks(cifar100, monkeypatch):
    from robot_ray.algorithm import induced as pools
    from robot_ray.algorithm.scoring import top1

    _, matrix = cifar100
    monkeypatch.setattr(pools, "ROW_CHUNK", 1000)  # many chunks, ties across chunk borders
    pool = pools.InducedArchs(matrix.values, matrix.arch_ids)
    W = np.random.default_rng(0).uniform(-1, 1, (64, 4)).astype(np.float32)
    W[0] = 0.0  # every arch scores 0: the tie goes to the lowest row, as in the trial
    expected = [int(matrix.arch_ids[top1(matrix.values, w)]) for w in W]
    assert pool.induce(W).tolist() == expected
