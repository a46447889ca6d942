"""robot_ray.io.storage on local paths and file:// URIs (no network)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.fs as pafs
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


@pytest.mark.parametrize("key", ["../evil.txt", "a/../../evil.txt", "/etc/evil.txt", "..", "", "./.", "a/\0b"])
def test_key_that_escapes_the_destination_is_refused(tmp_path, key) -> None:
    with pytest.raises(RobotRayError, match="refusing object key") as err:
        storage.local_path_for_key(tmp_path / "dest", key, source="s3://bucket/run")
    assert repr(key) in str(err.value)


def test_keys_inside_the_destination_map_below_it(tmp_path) -> None:
    dest = tmp_path / "dest"
    assert storage.local_path_for_key(dest, "tune/exp/state.json") == dest.resolve() / "tune/exp/state.json"
    assert storage.local_path_for_key(dest, "a/./b..c") == dest.resolve() / "a/b..c"
    # a symbolic link already under the destination does not carry a key outside it
    dest.mkdir()
    (dest / "link").symlink_to(tmp_path)
    with pytest.raises(RobotRayError, match="outside"):
        storage.local_path_for_key(dest, "link/evil.txt")


class _Bucket(pafs.FileSystemHandler):
    """An in-memory object store whose listing holds whatever keys a writer of the bucket chose."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects

    def get_type_name(self):
        return "bucket"

    def equals(self, other):
        return self is other

    def get_file_info(self, paths):
        return [pafs.FileInfo(p, pafs.FileType.File if p in self.objects else pafs.FileType.Directory) for p in paths]

    def get_file_info_selector(self, selector):
        return [pafs.FileInfo(p, pafs.FileType.File, size=len(b)) for p, b in self.objects.items()
                if p.startswith(selector.base_dir.rstrip("/") + "/")]

    def open_input_stream(self, path):
        return pa.BufferReader(self.objects[path])

    def open_input_file(self, path):
        return pa.BufferReader(self.objects[path])

    def normalize_path(self, path):
        return path

    # writing is not needed by these tests
    create_dir = delete_dir = delete_dir_contents = delete_root_dir_contents = delete_file = move = copy_file = None
    open_output_stream = open_append_stream = None


def test_download_refuses_a_bucket_with_a_traversal_key_before_writing(tmp_path, monkeypatch) -> None:
    objects = {"run/summary.json": b"{}", "run/../../escaped.txt": b"owned", "run/tune/state.json": b"[1]"}
    fs = pafs.PyFileSystem(_Bucket(objects))
    monkeypatch.setattr(storage, "resolve", lambda uri: (fs, "run"))
    dest = tmp_path / "a" / "b" / "dest"
    with pytest.raises(RobotRayError, match=r"refusing object key '\.\./\.\./escaped\.txt' in s3://bucket/run"):
        storage.download_dir("s3://bucket/run", dest)
    assert not dest.exists() and not list(tmp_path.rglob("escaped.txt"))  # nothing written, not even the good keys
    del objects["run/../../escaped.txt"]
    assert storage.download_dir("s3://bucket/run", dest) == 2
    assert (dest / "tune" / "state.json").read_bytes() == b"[1]"


def test_download_of_a_local_source_whose_key_resolves_outside(tmp_path) -> None:
    """file://: the key ``tune/state.json`` resolves outside when ``tune`` under the destination links elsewhere."""
    src = tmp_path / "src"
    (src / "tune").mkdir(parents=True)
    (src / "tune" / "state.json").write_text("[1]")
    (src / "x..y").write_bytes(b"fine")  # dots inside a name are not '..'
    dest, outside = tmp_path / "dest", tmp_path / "outside"
    dest.mkdir()
    outside.mkdir()
    (dest / "tune").symlink_to(outside)
    with pytest.raises(RobotRayError, match="refusing object key 'tune/state.json'"):
        storage.download_dir(f"file://{src}", dest)
    assert not list(outside.iterdir()) and not (dest / "x..y").exists()
    (dest / "tune").unlink()
    assert storage.download_dir(f"file://{src}", dest) == 2
    assert (dest / "tune" / "state.json").read_text() == "[1]" and (dest / "x..y").read_bytes() == b"fine"
