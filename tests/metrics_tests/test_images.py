"""Image loaders on the real npz subsets and the embedded digits set."""

from __future__ import annotations

import numpy as np
import pytest

from robot_ray.errors import RobotRayError
from robot_ray.images import load_batch, load_images, sample_batch


@pytest.mark.parametrize(
    ("name", "n_train", "side", "classes"),
    [("cifar10", 5085, 32, 10), ("cifar100", 486, 32, 100), ("ImageNet16-120", 1400, 16, 120)],
)
def test_real_subsets(data_dir, name: str, n_train: int, side: int, classes: int) -> None:
    s = load_images(name, data_dir)
    assert s.x.shape == (n_train, 3, side, side) and s.x.dtype == np.float32
    assert s.y.dtype == np.int64 and s.y.max() < classes == s.num_classes
    # normalised with the dataset's statistics: channel means near 0, stds near 1
    assert np.all(np.abs(s.x.mean(axis=(0, 2, 3))) < 0.15)
    assert np.all(np.abs(s.x.std(axis=(0, 2, 3)) - 1) < 0.15)


def test_test_split(data_dir) -> None:
    assert len(load_images("cifar10", data_dir, split="test")) == 1017


def test_digits_needs_no_data_dir() -> None:
    s = load_images("digits", None)
    assert s.x.shape == (1500, 3, 32, 32) and s.num_classes == 10
    assert np.array_equal(s.x[:, 0], s.x[:, 2])  # replicated channels
    assert abs(float(s.x.mean())) < 0.05


def test_batches_are_deterministic_by_seed(data_dir) -> None:
    x1, y1 = load_batch("cifar10", data_dir, 8, seed=5)
    x2, y2 = load_batch("cifar10", data_dir, 8, seed=5)
    x3, _ = load_batch("cifar10", data_dir, 8, seed=6)
    assert tuple(x1.shape) == (8, 3, 32, 32)
    assert (x1 == x2).all() and (y1 == y2).all() and not (x1 == x3).all()


def test_errors(data_dir, tmp_path) -> None:
    with pytest.raises(RobotRayError, match="unknown image dataset"):
        load_images("mnist", data_dir)
    with pytest.raises(RobotRayError, match="not found"):
        load_images("cifar10", tmp_path)
    with pytest.raises(RobotRayError, match="batch size"):
        sample_batch(load_images("digits"), 10_000, np.random.default_rng(0))
