"""The eleven built-in metrics: definitions, sign conventions and costs.

Every value is oriented so that higher = better predicted accuracy (as in the papers' own
rankings) and is NaN when undefined: when every gradient it reads is exactly zero (a cell with
no input-output path), when a log/determinant argument is not positive, or when the pass
failed. Definitions follow Zero-Cost-NAS (SamsungLabs/zero-cost-nas, ``foresight/pruners/
measures``) for grad_norm, snip, grasp, fisher, synflow, jacob_cov; NASWOT (``hook_logdet``);
Zen-NAS (idealo/Zen-NAS, NASLib ``zen``); SWAP-NAS (pym1024/SWAP ``src/metrics/swap.py``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from robot_ray.metrics.passes import SWAP_SAMPLES
from robot_ray.metrics.registry import Metric, MetricRegistry

NAN = float("nan")

SWAP_REG_MU = 1000.0
SWAP_REG_SIGMA = 5.0e5
"""Defaults of ``swap_reg``'s factor exp(-(P - mu)^2 / sigma), P = parameters in thousands
(the SWAP code's unit). Ours, chosen for NB201 scale (73K..1,539K parameters); the paper tunes
mu and sigma per space, so pass your own to :func:`swap_reg_metric`."""


SWAP_REVISION = 2
"""Revision 2 (2026-12-03): patterns counted over the batch's first ``SWAP_SAMPLES`` (16)
images, the SWAP reference's input size, not the whole batch; revision 1 values are not
comparable. Applies to swap and swap_reg."""


def _finite(v: float) -> float:
    return float(v) if math.isfinite(v) else NAN


def _sum_or_nan(parts: list[float]) -> float:
    """Sum of per-layer scores; NaN when all are zero (no gradient reached any weight)."""
    total = float(sum(parts))
    return _finite(total) if total != 0.0 else NAN


def _grad_norm(rec: Mapping[str, Any], opts: Mapping[str, Any]) -> float:
    return _sum_or_nan([float(g.norm()) for g in rec["loss_grads"] if g is not None])


def _snip(rec: Mapping[str, Any], opts: Mapping[str, Any]) -> float:
    return _sum_or_nan([float((g * w).abs().sum()) for g, w in zip(rec["loss_grads"], rec["weights"])
                        if g is not None])


def _grasp(rec: Mapping[str, Any], opts: Mapping[str, Any]) -> float:
    parts = [float((-w * h).sum()) for h, w in zip(rec["hvp"], rec["weights"]) if h is not None]
    if not any(float(h.abs().sum()) > 0 for h in rec["hvp"] if h is not None):
        return NAN
    return _finite(float(sum(parts)))


def _fisher(rec: Mapping[str, Any], opts: Mapping[str, Any]) -> float:
    if math.isnan(_grad_norm(rec, opts)):
        return NAN  # logits do not depend on any weight but the last bias: nothing to score
    parts = []
    for (idx, act), grad in zip(rec["acts"], rec["act_grads"]):
        if grad is None:
            continue
        g_nk = (act * grad).sum(dim=tuple(range(2, act.dim()))) if act.dim() > 2 else act * grad
        per_channel = 0.5 * g_nk.pow(2).mean(0)
        # Zero-Cost-NAS broadcasts each channel's value over that channel's weights before summing
        parts.append(float(per_channel.sum()) * rec["weights"][idx][0].numel())
    return _sum_or_nan(parts)


def _jacob_cov(rec: Mapping[str, Any], opts: Mapping[str, Any]) -> float:
    jac = rec["input_grad"].reshape(rec["input_grad"].shape[0], -1).double().cpu().numpy()
    if not np.all(np.isfinite(jac)) or np.any(jac.std(axis=1) == 0):
        return NAN
    corr = np.corrcoef(jac)
    v = np.linalg.eigvalsh(corr)
    k = 1e-5
    return _finite(-float(np.sum(np.log(v + k) + 1.0 / (v + k))))


def _nwot(rec: Mapping[str, Any], opts: Mapping[str, Any]) -> float:
    sign, logdet = np.linalg.slogdet(rec["relu_gram"])
    return _finite(float(logdet)) if sign > 0 else NAN


def _synflow(rec: Mapping[str, Any], opts: Mapping[str, Any]) -> float:
    return _sum_or_nan([rec["synflow"]])


def _zen(rec: Mapping[str, Any], opts: Mapping[str, Any]) -> float:
    return _finite(rec["zen"])


def _swap(rec: Mapping[str, Any], opts: Mapping[str, Any]) -> float:
    return _finite(rec["swap"])


def _swap_reg(rec: Mapping[str, Any], opts: Mapping[str, Any]) -> float:
    p = rec["params"] / 1e3
    return _finite(rec["swap"] * math.exp(-((p - opts["mu"]) ** 2) / opts["sigma"]))


def _params(rec: Mapping[str, Any], opts: Mapping[str, Any]) -> float:
    return float(rec["params"])


def _flops(rec: Mapping[str, Any], opts: Mapping[str, Any]) -> float:
    return float(rec["macs"])


_ZC = "SamsungLabs/zero-cost-nas foresight/pruners/measures"
_DATA_PASS = "shared data pass"


def swap_reg_metric(mu: float = SWAP_REG_MU, sigma: float = SWAP_REG_SIGMA, *, name: str = "swap_reg") -> Metric:
    """SWAP-Score times the parameter regulariser exp(-(P/1e3 - mu)^2 / sigma)."""
    return Metric(
        name, "gaussian", frozenset({"swap", "params"}), _swap_reg,
        sign=f"higher = better; swap x exp(-(P_K - {mu:g})^2 / {sigma:g}), P_K = parameters / 1e3",
        passes=f"1 forward (no grad) of {SWAP_SAMPLES} samples on the Gaussian copy, shared with zen and swap",
        data=f"first {SWAP_SAMPLES} images of the real batch (activation patterns); weights N(0,1) from the seed",
        reference="SWAP-NAS (Peng et al., ICLR 2024), pym1024/SWAP cal_regular_factor",
        options=MappingProxyType({"mu": float(mu), "sigma": float(sigma)}),
        revision=SWAP_REVISION,
    )


def builtin_metrics() -> list[Metric]:
    """Fresh Metric objects for the eleven built-in metrics."""
    return [
        Metric("grad_norm", "data", frozenset({"loss_grads"}), _grad_norm,
               sign="higher = better; sum over conv/linear layers of ||dL/dW||_2",
               passes=f"1 forward + 1 backward ({_DATA_PASS})",
               data="real batch and labels (cross-entropy)", reference=f"{_ZC}/grad_norm.py"),
        Metric("snip", "data", frozenset({"loss_grads"}), _snip,
               sign="higher = better; sum |W * dL/dW| over conv/linear weights",
               passes=f"1 forward + 1 backward ({_DATA_PASS})",
               data="real batch and labels (cross-entropy)", reference=f"{_ZC}/snip.py"),
        Metric("grasp", "data", frozenset({"loss_grads", "hvp"}), _grasp,
               sign="higher = better; sum -W * (H g) (Zero-Cost-NAS sign)",
               passes=f"1 forward + 1 create-graph backward + 1 Hessian-vector backward ({_DATA_PASS})",
               data="real batch and labels (cross-entropy)", reference=f"{_ZC}/grasp.py"),
        Metric("fisher", "data", frozenset({"acts", "loss_grads"}), _fisher,
               sign="higher = better; sum over channels of 0.5 mean_n (sum_hw a * dL/da)^2, "
                    "each channel counted once per weight in it",
               passes=f"1 forward + 1 backward ({_DATA_PASS})",
               data="real batch and labels (cross-entropy)", reference=f"{_ZC}/fisher.py"),
        Metric("jacob_cov", "data", frozenset({"input_grad"}), _jacob_cov,
               sign="higher = better; -sum_i log(v_i + k) + 1/(v_i + k), v = eigenvalues of the "
                    "correlation of per-sample input Jacobians, k = 1e-5",
               passes=f"1 forward + 1 backward to the input ({_DATA_PASS})",
               data="real batch (labels unused)", reference=f"{_ZC}/jacob_cov.py"),
        Metric("nwot", "data", frozenset({"relu_gram"}), _nwot,
               sign="higher = better; log|K|, K_ij = units where samples i, j share the ReLU state",
               passes=f"1 forward, no grad ({_DATA_PASS})",
               data="real batch (labels unused)",
               reference="NASWOT (Mellor et al., ICML 2021) hook_logdet; BigfriendP/zero_cost_NAS"),
        Metric("synflow", "synflow", frozenset({"synflow"}), _synflow,
               sign="higher = better; sum |W * dR/dW|, R = sum of logits of the |W| network without "
                    "BN in float64 on an all-ones input (raw, not log)",
               passes="1 forward + 1 backward of its own (batch of one, float64)",
               data="data-independent (input shape only)", reference=f"{_ZC}/synflow.py"),
        Metric("zen", "gaussian", frozenset({"zen"}), _zen,
               sign="higher = better; log E_n sum|f(a) - f(a + 0.01 b)| + sum_BN log sqrt(mean "
                    "running_var), f = features before global pooling",
               passes="2 forwards (no grad) on its own Gaussian-initialised copy",
               data="data-independent (Gaussian inputs of the batch's shape, from the seed)",
               reference="Zen-NAS (Lin et al., ICCV 2021); NASLib predictors/pruners/measures/zen.py"),
        Metric("swap", "gaussian", frozenset({"swap"}), _swap,
               sign="higher = better; number of distinct per-neuron activation patterns over "
                    f"{SWAP_SAMPLES} samples",
               passes=f"1 forward (no grad) of {SWAP_SAMPLES} samples on the Gaussian copy (shared with zen)",
               data=f"first {SWAP_SAMPLES} images of the real batch (the SWAP reference's input size); "
                    "weights N(0,1) from the seed",
               reference="SWAP-NAS (Peng et al., ICLR 2024), pym1024/SWAP src/metrics/swap.py",
               revision=SWAP_REVISION),
        swap_reg_metric(),
        Metric("params", "static", frozenset({"params"}), _params,
               sign="reported raw (no inherent direction; larger nets tend to score higher)",
               passes="none", data="data-independent",
               reference="all parameters incl. BN affine (NAS-Bench-201 'params' x 1e6)"),
        Metric("flops", "data", frozenset({"macs"}), _flops,
               sign="reported raw (no inherent direction)",
               passes=f"1 forward, no grad, batch of one unless the {_DATA_PASS} runs anyway",
               data="data-independent (input shape only)",
               reference="multiply-adds per sample of conv + linear layers, plus one add per output "
                         "of a biased layer (NAS-Bench-201 'flop' x 1e6); BN, pooling, ReLU, sums "
                         "not counted"),
    ]


def revisions_of(names: Iterable[str], registry: MetricRegistry | None = None) -> dict[str, int]:
    """Definition revisions above 1 of ``names`` (what a cache's settings record); names the
    registry does not hold (columns of a user-supplied metric table) have none."""
    reg = registry or default_registry()
    return {n: reg.get(n).revision for n in names if n in reg and reg.get(n).revision != 1}


def default_registry() -> MetricRegistry:
    """A new registry holding the eleven built-in metrics."""
    return MetricRegistry(builtin_metrics())
