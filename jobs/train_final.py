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
import sys
from pathlib import Path
from typing import Any

from robot_ray.train.final import (  # noqa: F401  (the job's names, as before the move)
    CHECKPOINT, CHECKPOINT_VERSION, DARTS_V2, IDENTITY_KEYS, RESULT, SPACE_DEFAULTS, final_settings, load_checkpoint,
    run, save_checkpoint,
)


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
    return final_settings(
        args.space, args.arch, dataset=args.dataset, cifar_root=args.cifar_root, channels=args.channels,
        layers=args.layers, cells=args.cells, seed=args.seed, train_subset=args.train_subset,
        test_subset=args.test_subset, aux_weight=args.aux_weight, drop_path=args.drop_path, epochs=args.epochs,
        batch_size=args.batch_size, lr=args.lr, momentum=args.momentum, nesterov=args.nesterov,
        weight_decay=args.weight_decay, grad_clip=args.grad_clip, cutout=args.cutout,
    )


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
