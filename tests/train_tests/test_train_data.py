"""Training data: official CIFAR pickle directories, seeded split, augmentation."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import torch

from robot_ray import images
from robot_ray.errors import RobotRayError
from robot_ray.train import data as tdata

PER_FILE = 4


def _write_batch(path, x_nhwc: np.ndarray, labels: np.ndarray, label_key: bytes) -> None:
    """One file in the official format: a protocol-2 pickled dict with bytes keys, data N x 3072 (channel-major)."""
    entry = {
        b"batch_label": b"fixture",
        b"data": np.ascontiguousarray(x_nhwc.transpose(0, 3, 1, 2)).reshape(len(x_nhwc), -1),
        label_key: [int(v) for v in labels],
        b"filenames": [b"img_%d.png" % i for i in range(len(labels))],
    }
    with open(path, "wb") as f:
        pickle.dump(entry, f, protocol=2)


@pytest.fixture(scope="module")
def cifar10_raw(data_dir):
    with np.load(data_dir / "images" / "cifar10.npz") as f:
        return f["x_train"][: 5 * PER_FILE], f["y_train"][: 5 * PER_FILE], f["x_test"][:PER_FILE], f["y_test"][:PER_FILE]


@pytest.fixture
def cifar10_dir(tmp_path, cifar10_raw):
    x, y, xt, yt = cifar10_raw
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for i in range(5):
        sl = slice(i * PER_FILE, (i + 1) * PER_FILE)
        _write_batch(folder / f"data_batch_{i + 1}", x[sl], y[sl], b"labels")
    _write_batch(folder / "test_batch", xt, yt, b"labels")
    return folder


def test_cifar10_batches_match_npz_images(cifar10_dir, cifar10_raw, data_dir):
    ds = tdata.load_dataset("cifar10", cifar_root=cifar10_dir)
    x, y, xt, yt = cifar10_raw
    assert ds.num_classes == 10 and len(ds.train) == 5 * PER_FILE and len(ds.test) == PER_FILE
    assert ds.train.x.dtype == np.uint8 and ds.train.x.shape == (5 * PER_FILE, 3, 32, 32)
    np.testing.assert_array_equal(ds.train.x, x.transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(ds.train.y, y)
    np.testing.assert_array_equal(ds.test.y, yt)
    # per-batch normalisation of raw pixels equals the npz loader's normalised floats
    xb, _ = next(tdata.DeviceSplit(ds.train, "cpu").batches(5 * PER_FILE))
    ref = images.load_images("cifar10", data_dir, split="train").x[: 5 * PER_FILE]
    np.testing.assert_allclose(xb.numpy(), ref, atol=1e-5)


def test_cifar_root_may_be_parent_and_cifar100_uses_fine_labels(tmp_path, cifar10_raw):
    x, y, xt, yt = cifar10_raw
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    _write_batch(folder / "train", x, y + 50, b"fine_labels")
    _write_batch(folder / "test", xt, yt + 50, b"fine_labels")
    ds = tdata.load_dataset("cifar100", cifar_root=tmp_path)
    assert ds.num_classes == 100
    np.testing.assert_array_equal(ds.train.y, y.astype(np.int64) + 50)


def test_cifar_loader_refuses_foreign_globals_and_missing_files(tmp_path, cifar10_dir):
    with pytest.raises(RobotRayError, match="no official cifar10 files"):
        tdata.load_dataset("cifar10", cifar_root=tmp_path / "nowhere")
    with pytest.raises(RobotRayError, match="only for cifar10, cifar100"):
        tdata.load_dataset("digits", cifar_root=cifar10_dir)

    class Evil:
        def __reduce__(self):
            return (os.getcwd, ())

    with open(cifar10_dir / "test_batch", "wb") as f:
        pickle.dump({b"data": Evil(), b"labels": []}, f, protocol=2)
    with pytest.raises(RobotRayError, match="not allowed"):
        tdata.load_dataset("cifar10", cifar_root=cifar10_dir)


def test_train_val_split_is_seeded_and_disjoint():
    ds = tdata.load_dataset("digits")
    tr, va = tdata.train_val_split(ds.train, 0.25, seed=3)
    tr2, va2 = tdata.train_val_split(ds.train, 0.25, seed=3)
    assert len(va) == round(0.25 * len(ds.train)) and len(tr) + len(va) == len(ds.train)
    np.testing.assert_array_equal(va.y, va2.y)
    rows = {r.tobytes() for r in tr.x}
    assert not any(r.tobytes() in rows for r in va.x)
    _, va3 = tdata.train_val_split(ds.train, 0.25, seed=4)
    assert not np.array_equal(va.x, va3.x)
    with pytest.raises(RobotRayError, match="val_fraction"):
        tdata.train_val_split(ds.train, 1.0, seed=0)


def test_crop_flip_is_a_padded_crop_or_its_mirror():
    x = torch.arange(2 * 3 * 6 * 6, dtype=torch.float32).view(2, 3, 6, 6)
    fill = torch.full((1, 3, 1, 1), -1.0)
    out = tdata.crop_flip(x, fill, torch.Generator().manual_seed(0), pad=2)
    again = tdata.crop_flip(x, fill, torch.Generator().manual_seed(0), pad=2)
    assert torch.equal(out, again) and out.shape == x.shape
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2), value=-1.0)
    for b in range(2):
        crops = [padded[b, :, i:i + 6, j:j + 6] for i in range(5) for j in range(5)]
        assert any(torch.equal(out[b], c) or torch.equal(out[b], c.flip(2)) for c in crops)


def test_cutout_zeros_one_clipped_square():
    x = torch.ones(8, 3, 32, 32)
    out = tdata.apply_cutout(x, 16, torch.Generator().manual_seed(1))
    zeros = (out[:, 0] == 0)
    assert torch.equal(zeros, (out == 0).all(1))  # same square in every channel
    for z in zeros:
        rows, cols = z.any(1).sum(), z.any(0).sum()
        assert 8 <= rows <= 16 and 8 <= cols <= 16 and z.sum() == rows * cols
