"""The shared pieces of a training run: network, optimiser, schedule, one epoch, accuracy.

The learning rate is a pure function of the epoch (:func:`cosine_lr`), and every epoch draws its
batches from its own generator seeded by ``(seed, epoch)`` (:func:`epoch_generator`), so a run
resumed at epoch k continues exactly as an uninterrupted one would, with no scheduler or RNG
state to checkpoint.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from robot_ray.errors import RobotRayError
from robot_ray.train.data import DeviceSplit

SPACES: tuple[str, ...] = ("nb201", "darts")


def pick_device(device: str | None = None) -> str:
    """``device`` if given, else ``cuda`` when available (true inside a Tune trial given a GPU), else ``cpu``."""
    if device:
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def build(space: str, arch: str, num_classes: int, *, seed: int, device: str, size: dict[str, Any],
          auxiliary: bool = False, drop_path_prob: float = 0.0) -> nn.Module:
    """A trainable network with weights drawn from ``seed`` (never the global RNG).

    Args:
        size: ``channels``/``cells`` for nb201; ``channels``/``layers`` (and ``network``) for darts.
        auxiliary, drop_path_prob: DARTS only (the auxiliary head and initial drop-path).

    Raises:
        RobotRayError: unknown space, or DARTS-only options for nb201.
    """
    from robot_ray.networks import build_network
    from robot_ray.networks.init import materialize

    if space == "nb201":
        if auxiliary or drop_path_prob:
            raise RobotRayError("nb201 networks have no auxiliary head or drop-path; leave both off for nb201")
        return build_network("nb201", arch, num_classes, seed=seed, device=device, **size)
    if space == "darts":
        from robot_ray.networks import darts

        with torch.device("meta"):
            net = darts.build(arch, classes=num_classes, auxiliary=auxiliary, drop_path_prob=drop_path_prob, **size)
        return materialize(net, torch.Generator(device="cpu").manual_seed(int(seed)), device=device)
    raise RobotRayError(f"cannot train search space {space!r}; trainable spaces: {', '.join(SPACES)}")


def sgd(net: nn.Module, *, lr: float, weight_decay: float, momentum: float = 0.9,
        nesterov: bool = True) -> torch.optim.SGD:
    """SGD with momentum (Nesterov by default, as NAS-Bench-201 trains)."""
    return torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay,
                           nesterov=nesterov and momentum > 0)


def cosine_lr(base_lr: float, epoch: int, epochs: int, min_lr: float = 0.0) -> float:
    """Cosine annealing from ``base_lr`` at epoch 0 towards ``min_lr`` at ``epochs`` (stepped per epoch)."""
    return min_lr + 0.5 * (base_lr - min_lr) * (1.0 + math.cos(math.pi * epoch / max(epochs, 1)))


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The CPU generator of one epoch's shuffling and augmentation."""
    return torch.Generator(device="cpu").manual_seed(int(seed) * 1_000_003 + int(epoch))


def train_epoch(net: nn.Module, opt: torch.optim.Optimizer, data: DeviceSplit, *, batch_size: int,
                generator: torch.Generator, lr: float, augment: bool = True, cutout: bool = False,
                aux_weight: float = 0.0, grad_clip: float | None = None) -> dict[str, float]:
    """One pass over ``data``; returns mean loss and training accuracy (%).

    ``aux_weight > 0`` adds the auxiliary head's loss (DARTS networks built with ``auxiliary``).
    """
    for group in opt.param_groups:
        group["lr"] = lr
    net.train()
    loss_fn = nn.CrossEntropyLoss()
    total, correct, loss_sum = 0, 0, 0.0
    for x, y in data.batches(batch_size, generator, augment=augment, cutout=cutout):
        opt.zero_grad(set_to_none=True)
        if aux_weight > 0:
            logits, aux = net.forward_with_aux(x)
            loss = loss_fn(logits, y)
            if aux is not None:
                loss = loss + aux_weight * loss_fn(aux, y)
        else:
            logits = net(x)
            loss = loss_fn(logits, y)
        loss.backward()
        if grad_clip:
            nn.utils.clip_grad_norm_(net.parameters(), grad_clip)
        opt.step()
        n = len(y)
        total += n
        loss_sum += float(loss.detach()) * n
        correct += int((logits.detach().argmax(1) == y).sum())
    return {"loss": loss_sum / max(total, 1), "train_acc": 100.0 * correct / max(total, 1)}


@torch.no_grad()
def accuracy(net: nn.Module, data: DeviceSplit, batch_size: int = 512) -> float:
    """Top-1 accuracy (%) in eval mode, no augmentation."""
    net.eval()
    correct = 0
    for x, y in data.batches(batch_size):
        correct += int((net(x).argmax(1) == y).sum())
    return 100.0 * correct / max(len(data), 1)
