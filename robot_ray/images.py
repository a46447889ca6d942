"""Image batches for training-free metrics: the shared ``images/*.npz`` subsets and sklearn digits.

Metrics only need a batch or two, so these are plain numpy loaders (no torchvision): uint8
NHWC images become float32 NCHW tensors normalised with the per-channel mean/std that
NAS-Bench-201 trains with, and batches are drawn by an explicit ``np.random.Generator``.

``digits`` is sklearn's 8x8 handwritten-digit set (1,797 images, shipped inside scikit-learn,
no data directory needed): pixel values 0..16 are scaled to 0..1, each image is upsampled 4x
by pixel replication to 32x32 and copied into 3 identical channels, then normalised with the
set's own mean/std (:data:`DIGITS_MEAN`, :data:`DIGITS_STD`). The first 1,500 images are
``train``, the remaining 297 ``test``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from robot_ray.data import data_file
from robot_ray.errors import RobotRayError

DATASETS: tuple[str, ...] = ("cifar10", "cifar100", "ImageNet16-120", "digits")

_FILES = {"cifar10": "cifar10.npz", "cifar100": "cifar100.npz", "ImageNet16-120": "imagenet16_120.npz"}

NORMALIZATION: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "cifar10": (
        tuple(v / 255 for v in (125.3, 123.0, 113.9)),
        tuple(v / 255 for v in (63.0, 62.1, 66.7)),
    ),
    "cifar100": (
        tuple(v / 255 for v in (129.3, 124.1, 112.4)),
        tuple(v / 255 for v in (68.2, 65.4, 70.4)),
    ),
    "ImageNet16-120": (
        tuple(v / 255 for v in (122.68, 116.66, 104.01)),
        tuple(v / 255 for v in (63.22, 61.26, 65.09)),
    ),
}
"""Per-channel (mean, std) on the 0..1 scale, as NAS-Bench-201's data loaders use them."""

DIGITS_MEAN = 0.30526
DIGITS_STD = 0.37605
"""Mean and std of all sklearn digits pixels after scaling 0..16 to 0..1."""
DIGITS_TRAIN = 1500
DIGITS_UPSAMPLE = 4


@dataclass(frozen=True)
class ImageSet:
    """One split: ``x`` float32 NCHW (normalised), ``y`` int64 labels, ``num_classes``."""

    name: str
    x: np.ndarray
    y: np.ndarray
    num_classes: int

    def __len__(self) -> int:
        return len(self.y)


def check_dataset(name: str) -> str:
    if name not in DATASETS:
        raise RobotRayError(f"unknown image dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return name


def num_classes(name: str) -> int:
    """Classifier width used for a dataset (ImageNet16-120 keeps 120 even in the 14-class subset)."""
    return {"cifar10": 10, "cifar100": 100, "ImageNet16-120": 120, "digits": 10}[check_dataset(name)]


def load_images(name: str, data_dir: str | os.PathLike | None = None, *, split: str = "train") -> ImageSet:
    """Load and normalise one split of a dataset.

    Args:
        name: one of :data:`DATASETS`.
        data_dir: shared data directory (not needed for ``digits``).
        split: ``train`` or ``test``.

    Raises:
        RobotRayError: unknown dataset or split, or the file is missing.
    """
    check_dataset(name)
    if split not in ("train", "test"):
        raise RobotRayError(f"split must be 'train' or 'test', got {split!r}")
    if name == "digits":
        x, y = _digits(split)
    else:
        x, y = _npz(name, str(data_file(data_dir, "images", _FILES[name])), split)
    return ImageSet(name, x, y, num_classes(name))


def sample_batch(images: ImageSet, batch_size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``batch_size`` distinct images drawn by ``rng`` (x float32 NCHW, y int64)."""
    if not 0 < batch_size <= len(images):
        raise RobotRayError(
            f"batch size must be in 1..{len(images)} for {images.name}, got {batch_size}"
        )
    idx = np.sort(rng.choice(len(images), size=batch_size, replace=False))
    return images.x[idx], images.y[idx]


def load_batch(name: str, data_dir: str | os.PathLike | None, batch_size: int, seed: int, *,
               split: str = "train"):
    """The metric batch for ``(dataset, batch_size, seed)`` as torch tensors ``(x, y)``."""
    import torch

    x, y = sample_batch(load_images(name, data_dir, split=split), batch_size, np.random.default_rng(seed))
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y)


@lru_cache(maxsize=8)
def _npz(name: str, path: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path) as f:
        raw, y = f[f"x_{split}"], f[f"y_{split}"]
    if raw.dtype != np.uint8 or raw.ndim != 4 or raw.shape[-1] != 3:
        raise RobotRayError(f"{path}: x_{split} must be uint8 NxHxWx3, got {raw.dtype} {raw.shape}")
    mean, std = (np.asarray(v, dtype=np.float32) for v in NORMALIZATION[name])
    x = (raw.astype(np.float32) / 255.0 - mean) / std
    x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    x.setflags(write=False)
    y = y.astype(np.int64)
    y.setflags(write=False)
    return x, y


@lru_cache(maxsize=2)
def _digits(split: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    img = bunch.images.astype(np.float32) / 16.0
    img = img.repeat(DIGITS_UPSAMPLE, axis=1).repeat(DIGITS_UPSAMPLE, axis=2)
    x = np.repeat(((img - DIGITS_MEAN) / DIGITS_STD)[:, None], 3, axis=1)
    y = bunch.target.astype(np.int64)
    sl = slice(0, DIGITS_TRAIN) if split == "train" else slice(DIGITS_TRAIN, None)
    x, y = np.ascontiguousarray(x[sl]), y[sl].copy()
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y
