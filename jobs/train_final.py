"""Train a chosen architecture from scratch with the DARTS evaluation protocol and report test error.

The DARTS protocol (Liu et al., 2019, ``cnn/train.py``): 600 epochs, batch 96, SGD lr 0.025
momentum 0.9 (no Nesterov) weight decay 3e-4, cosine to 0, Cutout 16, auxiliary head weight 0.4,
drop-path 0.2 increased linearly from 0 over the epochs, gradient-norm clip 5, C=36, 20 cells, the
full training set, evaluated on the test set. ``--space nb201`` trains an NB201 cell the same way
(no auxiliary head, no drop-path; C=16, N=5).

Every epoch ends with an atomic checkpoint ``OUT/checkpoint.pt`` (:mod:`robot_ray.io.atomic`), so a
preempted node resumes from the last finished epoch by re-running the same command. Each epoch's
batches and drop-path masks are drawn from RNGs seeded by ``(seed, epoch)`` and the learning rate is
a function of the epoch, so a resumed run matches an uninterrupted one. Raising ``--epochs`` on
resume continues training under the new (longer) cosine schedule.

Examples::

    # CPU smoke run (seconds)
    python jobs/train_final.py --dataset digits --epochs 1 --channels 4 --layers 3 --train-subset 64 --out /tmp/tf
    # one GPU, full CIFAR-10 from the official python pickles
    python jobs/train_final.py --cifar-root /data/cifar-10-batches-py --out /mnt/ckpt/darts_v2
"""

from __future__ import annotations

import argparse
import json
import sys
import time
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


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line (no side effects)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--space", choices=tuple(SPACE_DEFAULTS), default="darts")
    p.add_argument("--arch", default=None, help="DARTS genotype string or NB201 cell string (darts default: DARTS-V2)")
    p.add_argument("--dataset", default="cifar10", help="cifar10, cifar100, ImageNet16-120 or digits")
    p.add_argument("--data-dir", default=None, help="shared data directory (npz subsets); else $ROBOT_RAY_DATA")
    p.add_argument("--cifar-root", default=None, help="official CIFAR python-pickle folder: the full dataset")
    p.add_argument("--out", required=True, help="run directory (local path; mount cloud storage there)")
    p.add_argument("--epochs", type=int, default=600)
    p.add_argument("--batch-size", type=int, default=96)
    p.add_argument("--lr", type=float, default=0.025)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--nesterov", action="store_true", help="Nesterov momentum (DARTS uses plain momentum)")
    p.add_argument("--weight-decay", type=float, default=3e-4)
    p.add_argument("--grad-clip", type=float, default=5.0)
    p.add_argument("--aux-weight", type=float, default=None, help="auxiliary-head loss weight (darts 0.4, nb201 0)")
    p.add_argument("--drop-path", type=float, default=None, help="final drop-path probability (darts 0.2, nb201 0)")
    p.add_argument("--no-cutout", dest="cutout", action="store_false", help="disable Cutout 16")
    p.add_argument("--channels", type=int, default=None, help="initial channels (darts 36, nb201 16)")
    p.add_argument("--layers", type=int, default=None, help="darts cells (default 20)")
    p.add_argument("--cells", type=int, default=None, help="nb201 cells per stage (default 5)")
    p.add_argument("--train-subset", type=int, default=None, help="train on this many seeded-random images")
    p.add_argument("--test-subset", type=int, default=None, help="evaluate on the first N test images")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default=None, help="cuda / cpu (default: cuda when available)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--stop-after", type=int, default=None,
                   help="train at most this many epochs in this invocation, then exit (resume later)")
    return p.parse_args(argv)


def settings_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The run's settings as a flat dict of plain values (stored in the checkpoint)."""
    d = SPACE_DEFAULTS[args.space]
    arch = args.arch if args.arch is not None else (DARTS_V2 if args.space == "darts" else None)
    if arch is None:
        from robot_ray.errors import RobotRayError

        raise RobotRayError("--space nb201 needs --arch with an NB201 cell string, e.g. '|nor_conv_3x3~0|+|...|'")
    aux = d["aux_weight"] if args.aux_weight is None else args.aux_weight
    s = {
        "space": args.space, "arch": arch, "dataset": args.dataset, "cifar_root": args.cifar_root,
        "channels": d["channels"] if args.channels is None else args.channels,
        "layers": (d["layers"] if args.layers is None else args.layers) if args.space == "darts" else None,
        "cells": (d["cells"] if args.cells is None else args.cells) if args.space == "nb201" else None,
        "seed": args.seed, "train_subset": args.train_subset, "test_subset": args.test_subset,
        "auxiliary": aux > 0, "aux_weight": aux,
        "drop_path": d["drop_path"] if args.drop_path is None else args.drop_path,
        "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr, "momentum": args.momentum,
        "nesterov": args.nesterov, "weight_decay": args.weight_decay, "grad_clip": args.grad_clip,
        "cutout": args.cutout,
    }
    return s


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
        log=print) -> dict[str, Any]:
    """Train (or resume) to ``settings['epochs']`` and write ``OUT/result.json``; returns that result.

    ``stop_after`` ends this invocation after that many epochs (a time-boxed job); the result
    then reports the epochs done so far and a later call resumes.
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
    final = history[-1]["test_acc"] if history else loop.accuracy(net, test)
    result = {"test_acc": final, "test_error": 100.0 - final, "epochs": len(history),
              "finished": len(history) >= s["epochs"], "device": device,
              "settings": s, "history": history}
    atomic_write_bytes(out / RESULT, json.dumps(result, indent=1).encode())
    log(f"test error {result['test_error']:.2f}% after {len(history)} epochs ({out / RESULT})")
    return result


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit status."""
    args = parse_args(argv)
    from robot_ray.errors import RobotRayError

    try:
        settings = settings_from_args(args)
        settings["data_dir"] = args.data_dir  # where to read, not what is trained: not an identity key
        if args.threads:
            import torch

            torch.set_num_threads(args.threads)
        run(settings, Path(args.out), device=args.device, stop_after=args.stop_after)
    except RobotRayError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
