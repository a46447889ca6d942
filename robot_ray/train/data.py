"""Training data without torchvision: sources, a seeded train/validation split, augmentation, batching.

Sources (see :func:`load_dataset`):

* the shared ``images/*.npz`` subsets and the embedded ``digits`` set, through
  :func:`robot_ray.images.load_images` (already normalised float32 NCHW);
* full CIFAR-10/100 in the official python-pickle directories a user downloads
  (``cifar-10-batches-py/{data_batch_1..5,test_batch}``, ``cifar-100-python/{train,test}``),
  kept as uint8 NCHW (150 MB instead of 600 MB of floats) and normalised per batch.

Augmentation follows the usual CIFAR pipelines (NAS-Bench-201 and DARTS): random crop with
zero padding 4 (zero = a black raw pixel, so the fill is ``-mean/std`` on normalised data) and a
horizontal flip, plus DARTS' Cutout (one 16x16 square set to 0 after normalisation). Every random
draw comes from an explicit ``torch.Generator`` on the CPU, so the same seed gives the same
batches on CPU and GPU; the arithmetic runs on the data's device.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from robot_ray import images
from robot_ray.errors import RobotRayError

CIFAR_DIRS: dict[str, str] = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}
"""Official python-version directory name per dataset."""
CIFAR_FILES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "cifar10": (tuple(f"data_batch_{i}" for i in range(1, 6)), ("test_batch",)),
    "cifar100": (("train",), ("test",)),
}
"""(train files, test files) per dataset, inside its official directory."""
CUTOUT_LENGTH = 16
PAD = 4


@dataclass(frozen=True)
class Split:
    """One set of images held in memory.

    Attributes:
        x: ``(N, 3, H, W)``, uint8 raw pixels or float32 already normalised.
        y: ``(N,)`` int64 labels.
        mean, std: per-channel normalisation on the 0..1 scale (applied to uint8 ``x`` per batch).
    """

    x: np.ndarray
    y: np.ndarray
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def __len__(self) -> int:
        return len(self.y)

    @property
    def raw(self) -> bool:
        return self.x.dtype == np.uint8

    def subset(self, idx: np.ndarray) -> Split:
        return replace(self, x=self.x[idx], y=self.y[idx])


@dataclass(frozen=True)
class Dataset:
    """A training split and, where the source has one, a test split."""

    name: str
    train: Split
    test: Split | None
    num_classes: int


def load_dataset(name: str, *, data_dir: str | os.PathLike | None = None,
                 cifar_root: str | os.PathLike | None = None) -> Dataset:
    """Load a dataset from the shared npz subsets / digits, or from official CIFAR pickles.

    Args:
        name: a name of :data:`robot_ray.images.DATASETS`.
        data_dir: shared data directory (for the npz subsets; not needed for ``digits``).
        cifar_root: a directory holding the official python-version CIFAR files (the
            ``cifar-10-batches-py`` / ``cifar-100-python`` folder itself, or its parent). When
            given, the full dataset is read from there instead of the npz subset.

    Raises:
        RobotRayError: unknown dataset, ``cifar_root`` for a non-CIFAR dataset, missing files.
    """
    images.check_dataset(name)
    if cifar_root is not None:
        train, test = load_cifar_pickles(name, cifar_root)
        return Dataset(name, train, test, images.num_classes(name))
    mean, std = _normalization(name)
    splits = []
    for split in ("train", "test"):
        s = images.load_images(name, data_dir, split=split)
        splits.append(Split(s.x, s.y, mean, std))
    return Dataset(name, splits[0], splits[1], images.num_classes(name))


def load_cifar_pickles(name: str, root: str | os.PathLike) -> tuple[Split, Split]:
    """Read official python-version CIFAR-10/100 files into uint8 NCHW splits.

    These files are pickled dicts (``data``: N x 3072 uint8, channel-major 32x32; ``labels`` or
    ``fine_labels``). Unpickling can run code, so this reader is only for that trusted official
    format at a path the user gives explicitly, and its unpickler further refuses every global
    except numpy's array reconstruction (see :class:`_ArrayOnlyUnpickler`).

    Raises:
        RobotRayError: ``name`` is not a CIFAR dataset, or the directory/files are missing or malformed.
    """
    if name not in CIFAR_DIRS:
        raise RobotRayError(
            f"official pickle files exist only for {', '.join(CIFAR_DIRS)}, got dataset {name!r}: "
            "drop --cifar-root or choose a CIFAR dataset"
        )
    folder = _cifar_folder(name, Path(root).expanduser())
    mean, std = _normalization(name)
    out = []
    for files in CIFAR_FILES[name]:
        xs, ys = zip(*(_read_batch(folder / f) for f in files))
        out.append(Split(np.concatenate(xs), np.concatenate(ys), mean, std))
    return out[0], out[1]


def train_val_split(split: Split, val_fraction: float, seed: int) -> tuple[Split, Split]:
    """Seeded disjoint (train, validation) parts of a training split.

    Raises:
        RobotRayError: the fraction leaves either part empty.
    """
    n = len(split)
    n_val = int(round(n * float(val_fraction)))
    if not 0 < n_val < n:
        raise RobotRayError(
            f"val_fraction={val_fraction} of {n} training images leaves an empty train or validation part; "
            "use a fraction in (0, 1) that keeps at least one image on each side"
        )
    perm = np.random.default_rng(seed).permutation(n)
    return split.subset(np.sort(perm[n_val:])), split.subset(np.sort(perm[:n_val]))


def take(split: Split, n: int | None, seed: int) -> Split:
    """A seeded random subset of ``n`` images (all of them when ``n`` is None or >= len)."""
    if n is None or n >= len(split):
        return split
    if n < 1:
        raise RobotRayError(f"subset size must be >= 1, got {n}")
    return split.subset(np.sort(np.random.default_rng(seed).choice(len(split), size=n, replace=False)))


class DeviceSplit:
    """A :class:`Split` moved to a device once, with batch normalisation and augmentation."""

    def __init__(self, split: Split, device: str | torch.device) -> None:
        self.device = torch.device(device)
        # a copy: the loaders hand out read-only arrays, which torch must not alias
        self.x = torch.tensor(split.x, device=self.device)
        self.y = torch.tensor(split.y, device=self.device)
        mean = torch.tensor(split.mean, dtype=torch.float32, device=self.device).view(1, 3, 1, 1)
        std = torch.tensor(split.std, dtype=torch.float32, device=self.device).view(1, 3, 1, 1)
        self._raw = split.raw
        self._mean, self._std = mean, std
        # the value a zero (black) raw pixel has in the stored representation: crop padding
        self._fill = torch.zeros_like(mean) if split.raw else -mean / std

    def __len__(self) -> int:
        return len(self.y)

    def batches(self, batch_size: int, generator: torch.Generator | None = None, *, augment: bool = False,
                cutout: bool = False) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Normalised ``(x, y)`` batches; shuffled and augmented when a generator is given."""
        n = len(self)
        order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size].to(self.device)
            x = self.x[idx]
            if augment and generator is not None:
                x = crop_flip(x, self._fill, generator)
            x = self._normalize(x)
            if cutout and generator is not None:
                x = apply_cutout(x, CUTOUT_LENGTH, generator)
            yield x, self.y[idx]

    def _normalize(self, x: torch.Tensor) -> torch.Tensor:
        if self._raw:
            return (x.float() / 255.0 - self._mean) / self._std
        return x


def crop_flip(x: torch.Tensor, fill: torch.Tensor, generator: torch.Generator, pad: int = PAD) -> torch.Tensor:
    """Random crop of each image from its ``pad``-padded version, then a random horizontal flip."""
    b, c, h, w = x.shape
    padded = fill.to(x.dtype).expand(b, c, h + 2 * pad, w + 2 * pad).clone()
    padded[:, :, pad:pad + h, pad:pad + w] = x
    dy = torch.randint(0, 2 * pad + 1, (b,), generator=generator).to(x.device)
    dx = torch.randint(0, 2 * pad + 1, (b,), generator=generator).to(x.device)
    flip = (torch.rand(b, generator=generator) < 0.5).to(x.device)
    rows = dy[:, None] + torch.arange(h, device=x.device)  # (B, H)
    cols = dx[:, None] + torch.arange(w, device=x.device)  # (B, W)
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    out = padded[torch.arange(b, device=x.device)[:, None, None], :, rows[:, :, None], cols[:, None, :]]
    return out.permute(0, 3, 1, 2).contiguous()  # advanced indexing put channels last


def apply_cutout(x: torch.Tensor, length: int, generator: torch.Generator) -> torch.Tensor:
    """DARTS Cutout: zero one ``length`` x ``length`` square per image, centre uniform, clipped at borders."""
    b, _, h, w = x.shape
    cy = torch.randint(0, h, (b, 1), generator=generator).to(x.device)
    cx = torch.randint(0, w, (b, 1), generator=generator).to(x.device)
    ar_h = torch.arange(h, device=x.device)
    ar_w = torch.arange(w, device=x.device)
    in_y = (ar_h >= cy - length // 2) & (ar_h < cy + length // 2)  # (B, H)
    in_x = (ar_w >= cx - length // 2) & (ar_w < cx + length // 2)  # (B, W)
    keep = ~(in_y[:, :, None] & in_x[:, None, :])
    return x * keep[:, None].to(x.dtype)


def _normalization(name: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    if name == "digits":
        return (images.DIGITS_MEAN,) * 3, (images.DIGITS_STD,) * 3
    mean, std = images.NORMALIZATION[name]
    return tuple(mean), tuple(std)


def _cifar_folder(name: str, root: Path) -> Path:
    expected = CIFAR_DIRS[name]
    for cand in (root, root / expected):
        if all((cand / f).is_file() for files in CIFAR_FILES[name] for f in files):
            return cand
    need = ", ".join(f for files in CIFAR_FILES[name] for f in files)
    raise RobotRayError(
        f"no official {name} files under {str(root)!r}: expected {expected}/ with {need}; "
        f"download the python version of {name} and pass its folder (or the folder holding it) as cifar_root"
    )


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Unpickler for the CIFAR batch files: dicts, lists, bytes, and numpy arrays, nothing else."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),  # how Python 3 writes bytes at protocol 2 (files re-saved from Python 3)
    }

    def find_class(self, module: str, name: str):  # noqa: ANN201 - pickle protocol
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a CIFAR batch file")
        return super().find_class(module, name)


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, "rb") as f:
            entry = _ArrayOnlyUnpickler(f, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise RobotRayError(f"{path} is not an official CIFAR python batch file ({exc}); re-download it") from None
    if not isinstance(entry, dict):
        raise RobotRayError(f"{path}: expected a pickled dict, got {type(entry).__name__}; re-download it")
    entry = {k.decode() if isinstance(k, bytes) else k: v for k, v in entry.items()}
    labels = entry.get("labels", entry.get("fine_labels"))
    data = entry.get("data")
    if data is None or labels is None:
        raise RobotRayError(f"{path}: missing 'data' or 'labels'/'fine_labels' keys; re-download it")
    data = np.asarray(data, dtype=np.uint8)
    y = np.asarray(labels, dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(y) != len(data):
        raise RobotRayError(f"{path}: expected data N x 3072 with N labels, got {data.shape} and {y.shape}")
    return data.reshape(-1, 3, 32, 32), y
