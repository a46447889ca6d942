"""robot_ray.io.storage on local paths and file:// URIs (no network)."""

from __future__ import annotations

import pytest

from robot_ray.io import storage
from robot_ray.errors import RobotRayError


def test_resolve_and_atomic_write(tmp_path) -> None:
    target = f"file://{tmp_path}/a/b.txt"
    storage.write_bytes_atomic(target, b"one")
    storage.write_bytes_atomic(target, b"two")
    assert (tmp_path / "a" / "b.txt").read_bytes() == b"two"
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["b.txt"]  # no temp file left
    fs, path = storage.resolve(tmp_path / "a")
    assert path == str(tmp_path / "a")


def test_upload_download_round_trip(tmp_path) -> None:
    src = tmp_path / "src"
    (src / "tune" / "exp").mkdir(parents=True)
    (src / "summary.json").write_text("{}")
    (src / "tune" / "exp" / "state.json").write_text("[1]")
    assert storage.upload_dir(src, f"file://{tmp_path}/bucket/run") == 2
    assert storage.download_dir(f"file://{tmp_path}/bucket/run", tmp_path / "back") == 2
    assert (tmp_path / "back" / "tune" / "exp" / "state.json").read_text() == "[1]"
    assert storage.download_dir(f"file://{tmp_path}/nothing", tmp_path / "x") == 0


def test_stage_dir_file_and_prefix(tmp_path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "t.parquet").write_bytes(b"x")
    staged = storage.stage_dir(f"file://{tmp_path}/d/t.parquet", root=tmp_path / "stage")
    assert staged.name == "t.parquet" and staged.read_bytes() == b"x"
    assert (storage.stage_dir(f"file://{tmp_path}/d", root=tmp_path / "stage") / "t.parquet").is_file()
    with pytest.raises(RobotRayError, match="nothing found"):
        storage.stage_dir(f"file://{tmp_path}/missing", root=tmp_path / "stage")


def test_check_writable(tmp_path) -> None:
    storage.check_writable(f"file://{tmp_path}/out")
    assert list((tmp_path / "out").iterdir()) == []  # the probe is gone
    (tmp_path / "afile").write_text("x")
    with pytest.raises(RobotRayError, match="is a file"):
        storage.check_writable(str(tmp_path / "afile"))
    with pytest.raises(RobotRayError, match="not writable"):
        storage.check_writable(f"file://{tmp_path}/afile/below")  # a path under a file
    with pytest.raises(RobotRayError, match="cannot open"):
        storage.check_writable("nosuchscheme://bucket/x")
