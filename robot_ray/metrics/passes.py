"""The shared passes behind every metric; each runs on its own copy of the network.

A pass records only what the requested metrics ``need`` and returns those records; the
network handed in is never modified (weights, BN statistics and ``.grad`` stay as they were),
so no metric sees another metric's weight changes. Records by pass:

``data`` (default-init weights, BN in train mode, real batch ``x, y``; one forward):
    ``weights`` (conv/linear weight tensors), ``loss_grads`` (d CE / d weight),
    ``acts`` + ``act_grads`` (conv/linear outputs and d CE / d output, for Fisher),
    ``hvp`` (Hessian-gradient product H g of the CE loss, for GraSP; needs a double backward),
    ``input_grad`` (d sum(logits) / d x, for jacob_cov), ``relu_gram`` (NASWOT K matrix),
    ``macs`` (multiply-adds per sample).
``synflow``: ``synflow`` (sum |w * dR/dw| of the linearised float64 network).
``gaussian`` (N(0,1) weights, BN in train mode): ``zen`` (Zen-NAS score), ``swap`` (number of
    distinct sample-wise activation patterns on the first ``SWAP_SAMPLES`` images of the real
    batch), ``params``. On CPU this copy runs in channels-last memory format (forwards 25-50%
    faster there); the data pass stays NCHW, where PyTorch's double backward for GraSP is faster.
``static``: ``params``.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from robot_ray.networks.init import init_gaussian

WEIGHTED = (nn.Conv2d, nn.Linear)
ZEN_MIXUP_GAMMA = 1e-2
SWAP_SAMPLES = 16
"""Images SWAP counts patterns over: the SWAP reference's input size. With many more samples
almost every neuron's pattern is unique, so the count saturates towards the neuron count (500
NB201 archs, CIFAR-100: Spearman with accuracy 0.77 at 64 samples, 0.82 at 16; docs/metrics.md)."""


def _copy(net: nn.Module, device: str | torch.device) -> nn.Module:
    return copy.deepcopy(net).to(device).train()


def weighted_layers(net: nn.Module) -> list[nn.Module]:
    """Conv and linear layers in module order: the layers the zero-cost metrics score."""
    return [m for m in net.modules() if isinstance(m, WEIGHTED)]


def count_params(net: nn.Module) -> int:
    """All parameters, BN affine ones included (the NAS-Bench-201 ``params`` convention)."""
    return int(sum(p.numel() for p in net.parameters()))


def layer_macs(module: nn.Module, out: torch.Tensor) -> int:
    """Multiply-adds per sample of one conv/linear call, plus one add per output for a bias."""
    per_out = module.weight[0].numel()  # (C_in / groups) * kh * kw, or in_features
    outputs = out[0].numel()
    return outputs * per_out + (outputs if module.bias is not None else 0)


def run_data_pass(net: nn.Module, x: torch.Tensor, y: torch.Tensor, needs: Iterable[str],
                  device: str | torch.device) -> dict[str, Any]:
    """One forward (and the backward passes ``needs`` ask for) on the real batch."""
    needs = set(needs)
    with _borrowed(net, device) as net:
        return _data_pass(net, x, y, needs, device)


@contextlib.contextmanager
def _borrowed(net: nn.Module, device: str | torch.device) -> Iterator[nn.Module]:
    """The network itself in train mode, given back with its mode and buffers as they were.

    The data pass only reads the weights (``autograd.grad`` sets no ``.grad``; its hooks are
    removed), but a train-mode forward updates BatchNorm's running statistics, which are restored
    here. It saves a deep copy per architecture: ~70 ms of host time on a GPU node, where the
    three copies were 56 % of the fused time. A network on another device is copied as before.
    """
    target = torch.empty(0, device=device).device  # "cuda" resolved to the current cuda:N
    params = list(net.parameters())
    if not params or any(p.device != target for p in params):
        yield _copy(net, device)
        return
    modes = {m: m.training for m in net.modules()}
    buffers = {name: b.clone() for name, b in net.named_buffers()}
    try:
        yield net.train()
    finally:
        with torch.no_grad():
            for name, b in net.named_buffers():
                b.copy_(buffers[name])
        for m, training in modes.items():
            m.training = training


def _data_pass(net: nn.Module, x: torch.Tensor, y: torch.Tensor, needs: set[str],
               device: str | torch.device) -> dict[str, Any]:
    layers = weighted_layers(net)
    rec: dict[str, Any] = {}
    handles = []
    acts: list[tuple[int, torch.Tensor]] = []
    if needs & {"acts", "macs"}:
        rec["macs"] = 0

        def on_layer(idx: int):
            def hook(module: nn.Module, inp: tuple, out: torch.Tensor) -> None:
                if "acts" in needs:
                    acts.append((idx, out))
                rec["macs"] += layer_macs(module, out)
            return hook

        handles += [m.register_forward_hook(on_layer(i)) for i, m in enumerate(layers)]
    if "relu_gram" in needs:
        gram = torch.zeros(x.shape[0], x.shape[0], dtype=torch.float64, device=device)

        def on_relu(module: nn.Module, inp: tuple, out: torch.Tensor) -> None:
            # NASWOT: K += c c^T + (1-c)(1-c)^T over binary codes c = [pre-activation > 0]
            c = (inp[0].detach() > 0).flatten(1).to(torch.float32)
            s = c.sum(1, dtype=torch.float64)
            k = (2.0 * (c @ c.T)).to(torch.float64) - s[:, None] - s[None, :] + c.shape[1]
            gram.add_(k)

        handles += [m.register_forward_hook(on_relu) for m in net.modules() if isinstance(m, nn.ReLU)]
        rec["relu_gram"] = gram
    grad_needs = needs & {"loss_grads", "acts", "hvp", "input_grad"}
    try:
        if not grad_needs and "relu_gram" not in needs:
            x = x[:1]  # only layer shapes are needed
        x = x.to(device)
        with torch.set_grad_enabled(bool(grad_needs)):
            x_in = x.clone().requires_grad_(True) if "input_grad" in needs else x
            logits = net(x_in)
            weights = [m.weight for m in layers]
            rec["weights"] = [w.detach() for w in weights]
            if needs & {"loss_grads", "acts", "hvp"}:
                loss = F.cross_entropy(logits, y.to(device))
                act_t = [a for _, a in acts] if "acts" in needs else []
                grads = torch.autograd.grad(loss, weights + act_t, retain_graph=True,
                                            create_graph="hvp" in needs, allow_unused=True)
                g_w = grads[: len(weights)]
                rec["loss_grads"] = [None if g is None else g.detach() for g in g_w]
                if "acts" in needs:
                    rec["acts"] = [(i, a.detach()) for i, a in acts]
                    rec["act_grads"] = [None if g is None else g.detach() for g in grads[len(weights):]]
                if "hvp" in needs:
                    rec["hvp"] = _hessian_grad_product(weights, g_w)
            if "input_grad" in needs:
                (g_x,) = torch.autograd.grad(logits.sum(), x_in)
                rec["input_grad"] = g_x.detach()
    finally:
        for h in handles:
            h.remove()
    if "relu_gram" in rec:
        rec["relu_gram"] = rec["relu_gram"].cpu().numpy()
    return rec


def _hessian_grad_product(weights: list[torch.Tensor], g_w: tuple) -> list[torch.Tensor | None]:
    """GraSP's H g: gradient of z = sum(stopgrad(g) * g) with respect to the weights."""
    terms = [(g.detach() * g).sum() for g in g_w if g is not None and g.requires_grad]
    if not terms:
        return [None] * len(weights)
    z = torch.stack(terms).sum()
    hv = torch.autograd.grad(z, weights, retain_graph=True, allow_unused=True)
    return [None if h is None else h.detach() for h in hv]


def run_synflow_pass(net: nn.Module, input_shape: tuple[int, ...], device: str | torch.device) -> dict[str, Any]:
    """SynFlow: BN bypassed, weights made absolute, float64, one all-ones sample.

    The |w| float64 weights are new tensors handed to ``functional_call``, so the network's own
    parameters are never changed and need no copy (a deep copy was ~70 ms of host time per
    architecture on a GPU node); BN is bypassed for the pass and put back.
    """
    from torch.func import functional_call

    with _without_batchnorm(net, device) as net:
        names = {m: name for name, m in net.named_modules()}
        params = {n: p.detach().abs().double().requires_grad_(True) for n, p in net.named_parameters()}
        buffers = {n: b.double() if b.is_floating_point() else b for n, b in net.named_buffers()}
        weights = [params[f"{names[m]}.weight"] for m in weighted_layers(net)]
        out = functional_call(net, {**params, **buffers},
                              (torch.ones((1, *input_shape[1:]), dtype=torch.float64, device=device),))
        grads = torch.autograd.grad(out.sum(), weights, allow_unused=True)
        total = sum(float((w.detach() * g).abs().sum()) for w, g in zip(weights, grads) if g is not None)
    return {"synflow": total}


@contextlib.contextmanager
def _without_batchnorm(net: nn.Module, device: str | torch.device) -> Iterator[nn.Module]:
    """:func:`_borrowed`'s network (or copy) with every BatchNorm replaced by an identity, the
    BatchNorms put back afterwards."""
    with _borrowed(net, device) as net:
        removed = _swap_batchnorm(net)
        try:
            yield net
        finally:
            for parent, name, child in removed:
                setattr(parent, name, child)


def _swap_batchnorm(net: nn.Module) -> list[tuple[nn.Module, str, nn.Module]]:
    """Replace every BatchNorm by ``nn.Identity``; returns ``(parent, name, batchnorm)`` to put back."""
    removed = []
    for parent in list(net.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.modules.batchnorm._BatchNorm):
                setattr(parent, name, nn.Identity())
                removed.append((parent, name, child))
    return removed


def run_gaussian_pass(net: nn.Module, x: torch.Tensor, needs: Iterable[str], seed: int,
                      device: str | torch.device, *, swap_samples: int = SWAP_SAMPLES,
                      consume: bool = False) -> dict[str, Any]:
    """Zen-NAS and SWAP on one Gaussian-initialised copy (init drawn from ``seed``).

    ``swap_samples``: images SWAP counts over; the metric always uses :data:`SWAP_SAMPLES`
    (``bench/swap_samples.py`` varies it). ``consume``: the caller no longer needs ``net``, so
    it is re-initialised in place instead of copied (every weight and norm statistic is reset,
    so the values are the copy's; the deep copy was a third of a live SWAP score's time).
    """
    needs = set(needs)
    # drawn on the CPU, then moved: a CPU generator cannot fill CUDA tensors (on a GPU zen and
    # SWAP were NaN), and a seed gives the same init on every device
    net = net.to("cpu").train() if consume else _copy(net, "cpu")
    rec: dict[str, Any] = {"params": count_params(net)}
    init_gaussian(net, torch.Generator(device="cpu").manual_seed(int(seed)))
    net = net.to(device)
    layout = torch.channels_last if torch.device(device).type == "cpu" else torch.contiguous_format
    net = net.to(memory_format=layout)
    with torch.no_grad():
        if "zen" in needs:
            rec["zen"] = _zen(net, tuple(x.shape), seed, device, layout)
        if "swap" in needs:
            rec["swap"] = _swap(net, x[:swap_samples].to(device).contiguous(memory_format=layout))
    return rec


def _zen(net: nn.Module, shape: tuple[int, ...], seed: int, device: str | torch.device,
         layout: torch.memory_format = torch.contiguous_format) -> float:
    """log E_n sum |f(a) - f(a + 0.01 b)| + sum_BN log sqrt(mean running_var), a, b ~ N(0, I)."""
    gen = torch.Generator(device="cpu").manual_seed(int(seed) + 1)
    a = torch.randn(shape, generator=gen)
    b = torch.randn(shape, generator=gen)
    a, mixed = (t.to(device).contiguous(memory_format=layout) for t in (a, a + ZEN_MIXUP_GAMMA * b))
    diff = (net.forward_features(a) - net.forward_features(mixed)).abs().sum(dim=(1, 2, 3)).mean()
    bn_log = 0.0
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d) and m.running_var is not None:
            bn_log += 0.5 * math.log(float(m.running_var.mean()))
    value = float(diff)
    return math.log(value) + bn_log if value > 0 else float("nan")


def _swap(net: nn.Module, x: torch.Tensor) -> float:
    """Distinct per-neuron activation patterns across the samples of ``x`` (post-ReLU sign, 4-D maps).

    Up to 63 samples a neuron's pattern is one int64 word (bit i: sample i active), made on the
    device as each ReLU fires, and the words are counted there: no bit matrix is kept or copied
    to the host (that copy and ``np.packbits`` were most of SWAP's time). More samples go through
    :func:`_swap_counted_on_host`; both count the same patterns.
    """
    if x.shape[0] > 63:
        return _swap_counted_on_host(net, x)
    weights = torch.ones(x.shape[0], 1, dtype=torch.int64, device=x.device) << torch.arange(
        x.shape[0], device=x.device).unsqueeze(1)
    words = _on_relu_maps(net, x, lambda active: (active.to(torch.int64) * weights).sum(dim=0))
    if not words:
        return float("nan")
    return float(torch.unique(torch.cat(words)).numel())


def _on_relu_maps(net: nn.Module, x: torch.Tensor, keep) -> list[torch.Tensor]:
    """``keep(active)`` of every 4-D ReLU output of one forward of ``x``; ``active`` is the
    samples x neurons boolean map of that ReLU."""
    kept: list[torch.Tensor] = []

    def on_relu(module: nn.Module, inp: tuple, out: torch.Tensor) -> None:
        if inp[0].dim() == 4:
            kept.append(keep((out > 0).flatten(1)))

    handles = [m.register_forward_hook(on_relu) for m in net.modules() if isinstance(m, nn.ReLU)]
    try:
        net(x)
    finally:
        for h in handles:
            h.remove()
    return kept


def _swap_counted_on_host(net: nn.Module, x: torch.Tensor) -> float:
    """:func:`_swap` for any number of samples: bit rows packed into words on the host."""
    codes = _on_relu_maps(net, x, lambda active: active)
    if not codes:
        return float("nan")
    bits = torch.cat(codes, dim=1).T.contiguous().cpu().numpy()  # neurons x samples, bool
    packed = np.packbits(bits, axis=1)  # neurons x ceil(samples / 8) bytes
    pad = (-packed.shape[1]) % 8
    if pad:
        packed = np.pad(packed, ((0, 0), (0, pad)))
    words = np.ascontiguousarray(packed).view(np.uint64)  # one row of words per neuron
    if words.shape[1] == 1:  # batch <= 64: one word per neuron; a hash table beats np.unique's sort 8x
        return float(pd.unique(words[:, 0]).size)
    return float(np.unique(words, axis=0).shape[0])


def run_pass(group: str, network: nn.Module, x: torch.Tensor, y: torch.Tensor, needs: frozenset[str],
             seed: int, device: str | torch.device, *, consume: bool = False) -> dict[str, Any]:
    """Run the shared pass ``group`` once, recording what ``needs`` asks for.

    ``consume``: this is the last pass on ``network`` and its caller drops it afterwards, so a
    pass that would copy it (the Gaussian one) may change it instead.
    """
    if group == "data":
        return run_data_pass(network, x, y, needs, device)
    if group == "synflow":
        return run_synflow_pass(network, tuple(x.shape), device)
    if group == "gaussian":
        return run_gaussian_pass(network, x, needs, seed, device, consume=consume)
    assert group == "static", group
    return {"params": count_params(network)}
