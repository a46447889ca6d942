"""``LiveObjective``: evaluate an architecture by training it, for RoBoT's Tune trials and greedy tasks.

The searcher calls ``objective(arch_id) -> Query`` inside a Tune trial or Ray task
(:func:`robot_ray.tune.trial.evaluate`), so the objective is a small picklable object: settings
and the arch strings travel, the images are loaded lazily in the worker and cached there.

Defaults per space follow the protocols the benchmarks were made with:

* ``nb201``: NAS-Bench-201's short schedule (``hp=12``): 12 epochs, batch 256, lr 0.1, Nesterov
  SGD momentum 0.9, weight decay 5e-4, cosine; C=16, N=5; half the training set for validation.
* ``darts``: RoBoT's DARTS search network (C=16, 5 cells) with DARTS' optimiser (lr 0.025,
  weight decay 3e-4, batch 96), no auxiliary head or drop-path.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from robot_ray.benchmarks.base import Benchmark, Query
from robot_ray.errors import RobotRayError
from robot_ray.io.storage import absolute_location
from robot_ray.networks import check_size
from robot_ray.train import data as tdata
from robot_ray.train import loop

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class TrainSettings:
    """How one architecture is trained (see :data:`DEFAULTS` for each space's values)."""

    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    size: dict[str, Any] = field(default_factory=dict)
    momentum: float = 0.9
    nesterov: bool = True
    val_fraction: float = 0.5
    augment: bool = True
    cutout: bool = False
    train_subset: int | None = None
    eval_batch_size: int = 512
    inherit_epochs: int | None = None

    def __post_init__(self) -> None:
        if self.inherit_epochs is not None and (not isinstance(self.inherit_epochs, int) or self.inherit_epochs < 1):
            raise RobotRayError(f"inherit_epochs must be an int >= 1 (or None: as many as epochs), "
                                f"got {self.inherit_epochs!r}")
        if self.epochs < 1 or self.batch_size < 1 or not self.lr > 0 or self.weight_decay < 0:
            raise RobotRayError(
                f"training settings need epochs >= 1, batch_size >= 1, lr > 0, weight_decay >= 0; got "
                f"epochs={self.epochs}, batch_size={self.batch_size}, lr={self.lr}, weight_decay={self.weight_decay}"
            )
        check_size(self.size, flags={"channels": "--channels", "layers": "--layers", "cells": "--cells"})


DEFAULTS: dict[str, TrainSettings] = {
    "nb201": TrainSettings(epochs=12, batch_size=256, lr=0.1, weight_decay=5e-4, size={"channels": 16, "cells": 5}),
    "darts": TrainSettings(epochs=12, batch_size=96, lr=0.025, weight_decay=3e-4, size={"channels": 16, "layers": 5}),
}
"""Per-space defaults; override any field through :class:`LiveObjective`'s keyword arguments.

``inherit_epochs``: the epochs of a child that starts from its parent's weights (PRE-NAS with
weight inheritance); None trains it as many epochs as any other architecture."""

IDENTITY = ("dataset", "cifar_root", "seed", "size", "train_subset", "val_fraction", "batch_size", "lr",
            "weight_decay", "momentum", "nesterov", "augment", "cutout")
"""What kept weights must share to be inherited: the network's size and classes, the same
train/validation split (a child must never start from weights trained on its validation images)
and the same optimisation (a store reused by a run of other settings is refused, not mixed in)."""


class LiveObjective:
    """A picklable ``(arch_id) -> Query`` that trains the architecture from scratch.

    Args:
        space: ``nb201`` or ``darts``.
        archs: arch string per id: a sequence of strings, or a :class:`Benchmark` (its strings are
            copied when it is tabular, so the objective pickles without the table).
        dataset: a name of :data:`robot_ray.images.DATASETS`.
        data_dir: shared data directory (npz subsets; not needed for ``digits``).
        cifar_root: official CIFAR python-pickle folder; when given, the full dataset is used.
        seed: seeds the weights, the train/validation split, the subset and every batch.
        device: ``None`` picks ``cuda`` when available, else ``cpu``.
        weights_dir: a directory or storage URI where every trained network's weights are kept
            per (lineage, architecture) (:class:`~robot_ray.train.weights.WeightStore`), so that a
            child queried with ``parent_arch`` starts from its parent's weights
            (:func:`~robot_ray.train.inherit.inherit_weights`). ``None``: nothing is kept and a
            parent cannot be given.
        **settings: any :class:`TrainSettings` field, overriding the space's :data:`DEFAULTS`
            (``size`` entries are merged into the default size).

    ``query.value`` is the validation accuracy (%) after the last epoch, ``test_value`` the
    test accuracy (%) of the same network (NaN without a test split), ``cost`` the wall time (s)
    of building, training and evaluating the network (loading the images, once per worker, is not
    charged; loading and saving weights is). Deterministic given ``seed`` on CPU. After each query
    ``last_info`` says how it was trained: ``epochs``, ``inherited_fraction`` (0 from scratch).

    Example::

        obj = LiveObjective("nb201", bench, "cifar10", data_dir=DATA, epochs=1, size={"channels": 4, "cells": 1})
        run_robot_ray(bench, metrics, seeds, config, objective=obj)
    """

    def __init__(self, space: str, archs: Sequence[str] | Benchmark, dataset: str, *,
                 data_dir: str | None = None, cifar_root: str | None = None, seed: int = 0,
                 device: str | None = None, weights_dir: str | None = None, **settings: Any) -> None:
        if space not in DEFAULTS:
            raise RobotRayError(f"cannot train search space {space!r}; trainable spaces: {', '.join(DEFAULTS)}")
        base = DEFAULTS[space]
        unknown = set(settings) - set(TrainSettings.__dataclass_fields__)
        if unknown:
            raise RobotRayError(
                f"unknown training settings {sorted(unknown)}; known: {', '.join(TrainSettings.__dataclass_fields__)}"
            )
        size = {**base.size, **settings.pop("size", {})}
        self.settings = TrainSettings(**{**asdict(base), **settings, "size": size})
        self.space = space
        self.dataset = dataset
        self.data_dir = None if data_dir is None else str(data_dir)
        self.cifar_root = None if cifar_root is None else str(cifar_root)
        self.seed = int(seed)
        self.device = device
        # absolute: Tune trials run in their own working directories, where a relative path would
        # give every trial a store of its own and no child would find its parent
        self.weights_dir = None if weights_dir is None else absolute_location(weights_dir)
        self.last_info: dict[str, Any] = {}
        self._archs = tuple(archs.archs) if isinstance(archs, Benchmark) and hasattr(archs, "archs") else archs
        self._data: tuple[tdata.Split, tdata.Split, tdata.Split | None, int] | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_data"] = None  # images are reloaded in the worker, never shipped
        return state

    def arch(self, arch_id: int) -> str:
        """The arch string of an id."""
        if isinstance(self._archs, Benchmark):
            return self._archs.arch(arch_id)
        i = int(arch_id)
        if not 0 <= i < len(self._archs):
            raise RobotRayError(f"arch id {i} outside the {len(self._archs)} arch strings given to LiveObjective")
        return self._archs[i]

    def __call__(self, arch_id: int) -> Query:
        return self.query_arch(self.arch(arch_id))

    def query_arch(self, arch: str, *, parent_arch: str | None = None, lineage: str | None = None) -> Query:
        """Train an arch string (one the pool may not hold), from ``parent_arch``'s weights if given.

        Raises:
            RobotRayError: a parent without ``weights_dir``; a weight file of other settings.
        """
        self._load()  # once per worker; kept out of the cost so every query is charged alike
        start = time.perf_counter()
        result = self.train(arch, parent_arch=parent_arch, lineage=lineage)
        self.last_info = {"epochs": result["epochs"], "inherited_fraction": result["inherited_fraction"],
                          "device": result["device"]}
        inherited = None if parent_arch is None else result["inherited_fraction"]
        return Query(result["val_acc"], result["test_acc"], time.perf_counter() - start, inherited)

    def check(self) -> None:
        """Fail here, not in a Ray worker: load the images (unknown dataset, missing files, an empty
        train or validation part) and build the network of arch 0 at the configured size on CPU;
        then drop both, so the objective still pickles without images.

        Raises:
            RobotRayError: what training would raise on the first query.
        """
        _, _, _, num_classes = self._load()
        try:
            loop.build(self.space, self.arch(0), num_classes, seed=self.seed, device="cpu", size=self.settings.size)
        except (ValueError, TypeError, AssertionError) as exc:
            raise RobotRayError(f"cannot build a {self.space} network of size {self.settings.size}: {exc}") from exc
        finally:
            self._data = None
        if self.weights_dir is not None:  # an unwritable store would fail every trial after its training
            from robot_ray.io.storage import check_writable

            check_writable(self.weights_dir)

    def train(self, arch: str, *, parent_arch: str | None = None, lineage: str | None = None) -> dict[str, Any]:
        """Train one arch string, from ``parent_arch``'s kept weights when given and found.

        A child whose parent's weights are missing (its trial failed) trains from scratch, all
        ``epochs``; with ``weights_dir`` set the trained weights are kept for later children.

        Returns:
            ``val_acc``, ``test_acc`` (NaN without a test split), ``history`` (per-epoch loss,
            train accuracy, seconds), ``device``, ``eval_seconds``, ``epochs`` trained and
            ``inherited_fraction`` (share of the parameters taken from the parent).
        """
        s = self.settings
        if parent_arch is not None and self.weights_dir is None:
            raise RobotRayError(
                "a query with a parent_arch needs somewhere to find the parent's weights: build the "
                "LiveObjective with weights_dir=DIR (robot-ray search --inherit-weights does)"
            )
        from robot_ray.train.weights import canonical_arch

        # networks are built from the canonical string, so a kept state's module names follow the
        # edge order the store names it by (a DARTS node's two edges may come in either order)
        arch = canonical_arch(self.space, arch)
        parent_arch = None if parent_arch is None else canonical_arch(self.space, parent_arch)
        device = loop.pick_device(self.device)
        train, val, test, num_classes = self._load()
        net = loop.build(self.space, arch, num_classes, seed=self.seed, device=device, size=s.size)
        store, lineage = self._store(), lineage or "default"
        epochs, fraction = s.epochs, 0.0
        parent_state = None if parent_arch is None else store.load(lineage, self.space, parent_arch, self._identity())
        if parent_state is not None:
            from robot_ray.train.inherit import inherit_weights

            fraction = inherit_weights(net, arch, parent_state, parent_arch, self.space).fraction
            epochs = s.inherit_epochs or s.epochs
        elif parent_arch is not None:
            logger.warning("no kept weights of parent %s in lineage %s under %s: %s trains from scratch",
                           parent_arch, lineage, self.weights_dir, arch)
        opt = loop.sgd(net, lr=s.lr, weight_decay=s.weight_decay, momentum=s.momentum, nesterov=s.nesterov)
        dtrain, dval = tdata.DeviceSplit(train, device), tdata.DeviceSplit(val, device)
        history = []
        for epoch in range(epochs):
            t0 = time.perf_counter()
            stats = loop.train_epoch(
                net, opt, dtrain, batch_size=s.batch_size, generator=loop.epoch_generator(self.seed, epoch),
                lr=loop.cosine_lr(s.lr, epoch, epochs), augment=s.augment, cutout=s.cutout,
            )
            history.append({"epoch": epoch + 1, **stats, "seconds": time.perf_counter() - t0})
        t0 = time.perf_counter()
        val_acc = loop.accuracy(net, dval, s.eval_batch_size)
        test_acc = math.nan if test is None else loop.accuracy(net, tdata.DeviceSplit(test, device), s.eval_batch_size)
        eval_seconds = time.perf_counter() - t0
        if store is not None:
            try:
                store.save(lineage, self.space, arch, net.state_dict(), self._identity())
            except RobotRayError as exc:  # the training is done: answer it, its children train from scratch
                logger.error("could not keep the weights of %s (%s): its children will train from scratch", arch, exc)
        return {"val_acc": val_acc, "test_acc": test_acc, "history": history, "device": device,
                "eval_seconds": eval_seconds, "epochs": epochs, "inherited_fraction": fraction}

    def _store(self):
        if self.weights_dir is None:
            return None
        from robot_ray.train.weights import WeightStore

        return WeightStore(self.weights_dir)

    def _identity(self) -> dict[str, Any]:
        """The settings kept weights must share (:data:`IDENTITY`), as plain JSON-like values."""
        values = {**asdict(self.settings), "dataset": self.dataset, "cifar_root": self.cifar_root, "seed": self.seed}
        return {k: values[k] for k in IDENTITY}

    def _load(self) -> tuple[tdata.Split, tdata.Split, tdata.Split | None, int]:
        if self._data is None:
            ds = tdata.load_dataset(self.dataset, data_dir=self.data_dir, cifar_root=self.cifar_root)
            train = tdata.take(ds.train, self.settings.train_subset, self.seed)
            tr, va = tdata.train_val_split(train, self.settings.val_fraction, self.seed)
            self._data = (tr, va, ds.test, ds.num_classes)
        return self._data

    def __repr__(self) -> str:
        return f"LiveObjective({self.space!r}, dataset={self.dataset!r}, seed={self.seed}, {self.settings})"
