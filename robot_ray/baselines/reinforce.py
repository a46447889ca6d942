"""REINFORCE over independent per-edge categorical policies (RoBoT's ``REINFORCE`` baseline).

As in RoBoT's ``search_nb201.py``: logits ``1e-3 * randn(6, K)``, softmax per edge, Adam with
lr 0.01, reward = the queried value, baseline = a bias-corrected exponential moving average
(momentum 0.9) updated *before* the advantage is taken. Repeated archs cost no budget but still
update the policy. Two guards keep the run finite and exactly T distinct: a NaN value is
rewarded as the worst value seen so far, and after ``max_steps`` policy samples the remaining
budget is filled with uniformly random unseen archs (``extra["random_fills"]``).

torch is imported here only: the policy is a (6, K) tensor and Adam, nothing more.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from robot_ray.benchmarks.base import TabularBenchmark
from robot_ray.errors import RobotRayError
from robot_ray.metrics.matrix import MetricMatrix
from robot_ray.baselines._common import new_ledger, random_unseen, reject_options
from robot_ray.algorithm.encoding import cell_encoding
from robot_ray.algorithm.ledger import RunResult

NAME = "reinforce"


class _EMA:
    """Bias-corrected exponential moving average (RoBoT's ``ExponentialMovingAverage``)."""

    def __init__(self, momentum: float) -> None:
        self.momentum, self.num, self.den = momentum, 0.0, 0.0

    def update(self, value: float) -> None:
        self.num = self.momentum * self.num + (1 - self.momentum) * value
        self.den = self.momentum * self.den + (1 - self.momentum)

    @property
    def value(self) -> float:
        return self.num / self.den


def run(
    benchmark: TabularBenchmark,
    budget: int,
    seed: int,
    *,
    metrics: MetricMatrix | None = None,
    lr: float = 0.01,
    momentum: float = 0.9,
    max_steps: int | None = None,
    ops: tuple[str, ...] | None = None,
    **options,
) -> RunResult:
    """Run REINFORCE for ``budget`` distinct queries. ``metrics`` is ignored.

    Args:
        lr: Adam learning rate (RoBoT: 0.01).
        momentum: EMA baseline momentum (RoBoT: 0.9).
        max_steps: policy samples before falling back to random unseen archs;
            default ``100 * budget + 1000``.
        ops: op names of the cell space; default read from the pool.

    Raises:
        RobotRayError: not a cell space, bad hyper-parameters or unknown options.
    """
    reject_options(NAME, options, ("lr", "momentum", "max_steps", "ops"))
    if not lr > 0 or not 0 <= momentum < 1:
        raise RobotRayError(f"need lr > 0 and 0 <= momentum < 1, got lr={lr}, momentum={momentum}")
    ledger = new_ledger(benchmark, budget, NAME)
    enc = cell_encoding(benchmark, ops=ops)
    max_steps = 100 * ledger.budget + 1000 if max_steps is None else int(max_steps)
    gen = torch.Generator().manual_seed(int(seed))
    rng = np.random.default_rng(seed)  # only for the fall-back fill
    policy = torch.nn.Parameter(1e-3 * torch.randn(enc.num_edges, enc.num_ops, generator=gen))
    optimizer = torch.optim.Adam([policy], lr=lr)
    baseline = _EMA(momentum)
    with threadpool_limits(limits=1):  # (6, K) tensors: threads only add sync cost (~20x slower on a busy machine)
        steps = _train(ledger, enc, policy, optimizer, baseline, gen, max_steps)
    fills = 0
    while not ledger.exhausted:
        ledger.query(random_unseen(ledger, rng), stage=NAME)
        fills += 1
    return RunResult(seed=seed, ledger=ledger, extra={"policy_steps": steps, "random_fills": fills})


def _train(ledger, enc, policy, optimizer, baseline: _EMA, gen: torch.Generator, max_steps: int) -> int:
    """The REINFORCE loop; returns the number of policy samples drawn."""
    worst = math.inf
    steps = 0
    while not ledger.exhausted and steps < max_steps:
        steps += 1
        probs = torch.softmax(policy.detach(), dim=-1)
        action = torch.multinomial(probs, 1, generator=gen).squeeze(1)
        arch_id = enc.arch_id(action.tolist())
        if arch_id < 0:  # cell missing from a partial pool: no answer, no update
            continue
        answer, _ = ledger.query(arch_id, stage=NAME)
        if math.isnan(answer.value):
            if math.isinf(worst):
                continue
            reward = worst
        else:
            reward = answer.value
            worst = min(worst, reward)
        baseline.update(reward)
        log_prob = torch.log_softmax(policy, dim=-1).gather(1, action[:, None]).sum()
        loss = -log_prob * (reward - baseline.value)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return steps
