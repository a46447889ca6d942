"""Train a chosen architecture from scratch with the DARTS evaluation protocol and report test error.

The DARTS protocol (Liu et al., 2019, ``cnn/train.py``): 600 epochs, batch 96, SGD lr 0.025
momentum 0.9 (no Nesterov) weight decay 3e-4, cosine to 0, Cutout 16, auxiliary head weight 0.4,
drop-path 0.2 increased linearly from 0 over the epochs, gradient-norm clip 5, C=36, 20 cells, the
full training set, evaluated on the test set. NB201 cells train the same way (no auxiliary head,
no drop-path; C=16, N=5).

Every epoch ends with an atomic checkpoint ``OUT/checkpoint.pt`` (:mod:`robot_ray.io.atomic`), so a
preempted run resumes from the last finished epoch by calling :func:`run` again with the same
settings. Each epoch's batches and drop-path masks are drawn from RNGs seeded by ``(seed, epoch)``
and the learning rate is a function of the epoch, so a resumed run matches an uninterrupted one.
Raising ``epochs`` on resume continues training under the new (longer) cosine schedule.

``jobs/train_final.py`` is the command line over this module; a live SWAP-NAS search
(:mod:`robot_ray.runs.swapnas_live`) trains its returned genotype with it inside a Tune trial.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DARTS_V2 = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], "
    "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"
)
"""The DARTS (second order) genotype of the DARTS paper, the default ``--arch``."""

CHECKPOINT = "checkpoint.pt"
RESULT = "result.json"
CHECKPOINT_VERSION = 1
IDENTITY_KEYS = ("space", "arch", "dataset", "cifar_root", "channels", "layers", "cells", "seed", "train_subset",
                 "auxiliary")
"""Settings a checkpoint must share with the command that resumes it (they define the network and data)."""

SPACE_DEFAULTS: dict[str, dict[str, Any]] = {
    "darts": {"channels": 36, "layers": 20, "aux_weight": 0.4, "drop_path": 0.2},
    "nb201": {"channels": 16, "cells": 5, "aux_weight": 0.0, "drop_path": 0.0},
}


def final_settings(space: str = "darts", arch: str | None = None, *, dataset: str = "cifar10",
                   cifar_root: str | None = None, channels: int | None = None, layers: int | None = None,
                   cells: int | None = None, seed: int = 0, train_subset: int | None = None,
                   test_subset: int | None = None, aux_weight: float | None = None, drop_path: float | None = None,
                   epochs: int = 600, batch_size: int = 96, lr: float = 0.025, momentum: float = 0.9,
                   nesterov: bool = False, weight_decay: float = 3e-4, grad_clip: float = 5.0,
                   cutout: bool = True) -> dict[str, Any]:
    """The run's settings as a flat dict of plain values (stored in the checkpoint).

    ``None`` keeps the space's protocol value (:data:`SPACE_DEFAULTS`; DARTS: C=36, 20 cells,
    auxiliary weight 0.4, drop-path 0.2; ``arch`` DARTS-V2).

    Raises:
        RobotRayError: an unknown space, or NB201 without ``arch``.
    """
    from robot_ray.errors import RobotRayError

    if space not in SPACE_DEFAULTS:
        raise RobotRayError(f"train_final trains {', '.join(SPACE_DEFAULTS)} networks, not {space!r}")
    d = SPACE_DEFAULTS[space]
    arch = arch if arch is not None else (DARTS_V2 if space == "darts" else None)
    if arch is None:
        raise RobotRayError("--space nb201 needs --arch with an NB201 cell string, e.g. '|nor_conv_3x3~0|+|...|'")
    aux = d["aux_weight"] if aux_weight is None else aux_weight
    drop = d["drop_path"] if drop_path is None else drop_path
    bad = [f"{name}={value!r}" for name, value, ok in (
        ("epochs", epochs, _int_at_least(epochs, 1)), ("batch_size", batch_size, _int_at_least(batch_size, 1)),
        ("train_subset", train_subset, train_subset is None or _int_at_least(train_subset, 1)),
        ("test_subset", test_subset, test_subset is None or _int_at_least(test_subset, 1)),
        ("lr", lr, _number(lr) and lr > 0), ("weight_decay", weight_decay, _number(weight_decay) and weight_decay >= 0),
        ("momentum", momentum, _number(momentum) and 0 <= momentum < 1), ("aux_weight", aux, _number(aux) and aux >= 0),
        ("drop_path", drop, _number(drop) and 0 <= drop < 1), ("grad_clip", grad_clip, _number(grad_clip) and grad_clip >= 0),
    ) if not ok]
    if bad:
        raise RobotRayError(
            f"train_final settings out of range: {', '.join(bad)}; epochs, batch size and subsets are ints >= 1, "
            "lr > 0, weight decay, aux weight and grad clip >= 0, momentum and drop-path in [0, 1)"
        )
    return {
        "space": space, "arch": arch, "dataset": dataset, "cifar_root": cifar_root,
        "channels": d["channels"] if channels is None else channels,
        "layers": (d["layers"] if layers is None else layers) if space == "darts" else None,
        "cells": (d["cells"] if cells is None else cells) if space == "nb201" else None,
        "seed": seed, "train_subset": train_subset, "test_subset": test_subset,
        "auxiliary": aux > 0, "aux_weight": aux,
        "drop_path": drop,
        "epochs": epochs, "batch_size": batch_size, "lr": lr, "momentum": momentum,
        "nesterov": nesterov, "weight_decay": weight_decay, "grad_clip": grad_clip,
        "cutout": cutout,
    }


def _int_at_least(value: Any, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _number(value: Any) -> bool:
    import math

    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` atomically and fsynced (:func:`robot_ray.io.atomic.atomic_write_with`)."""
    import torch

    from robot_ray.io.atomic import atomic_write_with

    atomic_write_with(path, lambda tmp: torch.save(state, tmp), fsync=True)


def load_checkpoint(path: Path, settings: dict[str, Any]) -> dict[str, Any] | None:
    """The checkpoint at ``path`` if any, after checking it belongs to this run.

    Raises:
        RobotRayError: the checkpoint's version or network/data settings differ from the command's.
    """
    import torch

    from robot_ray.errors import RobotRayError
    from robot_ray.io.state import check_version

    if not path.is_file():
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    check_version(state, kind="checkpoint", supported=(CHECKPOINT_VERSION,), source=path,
                  hint="use a fresh --out directory")
    diff = {k: (state["settings"].get(k), settings.get(k)) for k in IDENTITY_KEYS
            if state["settings"].get(k) != settings.get(k)}
    if diff:
        raise RobotRayError(f"{path} belongs to a different run: {diff} (checkpoint, command); "
                            "repeat the original settings to resume, or use a fresh --out directory")
    return state


def run(settings: dict[str, Any], out: Path, *, device: str | None = None, stop_after: int | None = None,
        log=print, on_epoch: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Train (or resume) to ``settings['epochs']`` and write ``OUT/result.json``; returns that result.

    Args:
        settings: :func:`final_settings` (plus ``data_dir``, where to read, not an identity key).
        out: the run directory: ``checkpoint.pt`` after every epoch, ``result.json`` at the end;
            a checkpoint there is resumed (after checking it belongs to ``settings``).
        device: ``cuda``/``cpu``; default cuda when available.
        stop_after: end this invocation after that many epochs (a time-boxed job); the result
            then reports the epochs done so far and a later call resumes.
        log: one line per epoch (JSON) and at the start and end.
        on_epoch: called with the epoch's row once its checkpoint is written (e.g. a Tune report).

    Raises:
        RobotRayError: a checkpoint of another run in ``out``, bad data settings.
    """
    import torch

    from robot_ray.io.atomic import atomic_write_bytes
    from robot_ray.train import data as tdata
    from robot_ray.train import loop

    s = settings
    device = loop.pick_device(device)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / CHECKPOINT
    ds = tdata.load_dataset(s["dataset"], data_dir=s.get("data_dir"), cifar_root=s["cifar_root"])
    train = tdata.DeviceSplit(tdata.take(ds.train, s["train_subset"], s["seed"]), device)
    test_split = ds.test if s["test_subset"] is None else ds.test.subset(slice(0, s["test_subset"]))
    test = tdata.DeviceSplit(test_split, device)
    size = {"channels": s["channels"], "layers": s["layers"]} if s["space"] == "darts" else {
        "channels": s["channels"], "cells": s["cells"]}
    net = loop.build(s["space"], s["arch"], ds.num_classes, seed=s["seed"], device=device, size=size,
                     auxiliary=s["auxiliary"])
    opt = loop.sgd(net, lr=s["lr"], weight_decay=s["weight_decay"], momentum=s["momentum"], nesterov=s["nesterov"])
    history: list[dict[str, Any]] = []
    start_epoch = 0
    state = load_checkpoint(ckpt_path, s)
    if state is not None:
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        history = list(state["history"])
        start_epoch = int(state["epoch"])
        log(f"resuming from {ckpt_path} at epoch {start_epoch + 1}")
    end_epoch = s["epochs"] if stop_after is None else min(s["epochs"], start_epoch + stop_after)
    for epoch in range(start_epoch, end_epoch):
        t0 = time.perf_counter()
        if s["space"] == "darts":
            net.drop_path_prob = s["drop_path"] * epoch / s["epochs"]
        lr = loop.cosine_lr(s["lr"], epoch, s["epochs"])
        gen = loop.epoch_generator(s["seed"], epoch)
        # drop-path masks use the global torch RNG (networks/darts.py): seed it per epoch inside a fork,
        # so the caller's RNG state is left as it was and a resumed epoch draws the same masks
        devices = [torch.device(device).index or 0] if torch.device(device).type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(int(gen.initial_seed()) + 1)
            stats = loop.train_epoch(net, opt, train, batch_size=s["batch_size"], generator=gen, lr=lr,
                                     augment=True, cutout=s["cutout"], aux_weight=s["aux_weight"],
                                     grad_clip=s["grad_clip"] or None)
        test_acc = loop.accuracy(net, test)
        row = {"epoch": epoch + 1, "lr": lr, **stats, "test_acc": test_acc, "seconds": time.perf_counter() - t0}
        history.append(row)
        save_checkpoint(ckpt_path, {"version": CHECKPOINT_VERSION, "epoch": epoch + 1, "settings": s,
                                    "model": net.state_dict(), "optimizer": opt.state_dict(), "history": history})
        log(json.dumps(row))
        if on_epoch is not None:
            on_epoch(row)
    final = history[-1]["test_acc"] if history else loop.accuracy(net, test)
    result = {"test_acc": final, "test_error": 100.0 - final, "epochs": len(history),
              "finished": len(history) >= s["epochs"], "device": device,
              "settings": s, "history": history}
    atomic_write_bytes(out / RESULT, json.dumps(result, indent=1).encode())
    log(f"test error {result['test_error']:.2f}% after {len(history)} epochs ({out / RESULT})")
    return result
