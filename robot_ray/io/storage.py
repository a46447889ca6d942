"""Local paths and object-store URIs (``s3://``, ``gs://``, ``file://``) behind one small API.

Why: on a cluster the job driver runs on the head node, whose disk disappears with ``ray down``;
data, metric caches and results therefore live in a bucket. The library itself reads and writes
local directories, so the job scripts (``jobs/``) stage inputs down and outputs up with these
helpers, all through ``pyarrow.fs`` (already a dependency; credentials come from the usual
environment: instance profile, ``AWS_*`` variables, ``GOOGLE_APPLICATION_CREDENTIALS``).

Every failure a user can cause (unknown scheme, missing bucket, read-only location, missing
input) raises :class:`RobotRayError` naming the URI.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from functools import partial
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs

from robot_ray.errors import RobotRayError
from robot_ray.io.atomic import atomic_write_bytes, atomic_write_with

__all__ = [
    "is_uri",
    "is_remote",
    "resolve",
    "write_bytes_atomic",
    "read_bytes",
    "upload_dir",
    "download_dir",
    "local_path_for_key",
    "check_writable",
    "stage_dir",
]

_PROBE_PREFIX = ".robot-ray-write-check-"


def is_uri(location: str | os.PathLike) -> bool:
    """``True`` for ``scheme://...`` (``file://`` included); ``False`` for plain paths."""
    text = str(location)
    scheme, sep, _ = text.partition("://")
    return bool(sep) and scheme.isidentifier()


def is_remote(location: str | os.PathLike) -> bool:
    """``True`` when ``location`` is a URI that is not on the local filesystem."""
    return is_uri(location) and not str(location).startswith("file://")


def resolve(uri: str | os.PathLike) -> tuple[pafs.FileSystem, str]:
    """``(filesystem, path)`` for a local path or URI; paths come back absolute.

    Raises:
        RobotRayError: the scheme is unknown or the URI is malformed.
    """
    text = str(uri)
    if not is_uri(text):
        return pafs.LocalFileSystem(), str(Path(text).expanduser().resolve())
    try:
        fs, path = pafs.FileSystem.from_uri(text)
    except (pa.ArrowInvalid, ValueError, OSError) as exc:  # ArrowInvalid: unknown scheme
        raise RobotRayError(
            f"cannot open {text!r} ({exc}): use a local path or an s3://, gs:// or file:// URI"
        ) from exc
    return fs, path.rstrip("/") or "/"


def absolute_location(location: str | os.PathLike) -> str:
    """A URI as given; a local path made absolute (workers run in other working directories)."""
    text = str(location)
    return text if is_uri(text) else str(Path(text).expanduser().resolve())


def _join(base: str, rel: str) -> str:
    return f"{base.rstrip('/')}/{rel}" if rel else base


def write_bytes_atomic(uri: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` so that readers see the old object or the whole new one, never a part.

    Local files: :func:`robot_ray.io.atomic.atomic_write_bytes`. Object stores publish an object
    only when its upload completes, so a direct write is already atomic there.

    Raises:
        RobotRayError: the location cannot be written.
    """
    fs, path = resolve(uri)
    parent = path.rsplit("/", 1)[0] or "/"
    try:
        fs.create_dir(parent, recursive=True)
        if isinstance(fs, pafs.LocalFileSystem):
            atomic_write_bytes(path, data)
        else:
            with fs.open_output_stream(path) as f:
                f.write(data)
    except (OSError, pa.ArrowException) as exc:
        raise RobotRayError(f"cannot write {uri!s} ({exc}): check the path, the bucket and its permissions") from exc


def exists(uri: str | os.PathLike) -> bool:
    """Whether a file or object is at ``uri``.

    Raises:
        RobotRayError: the location cannot be asked (an unknown scheme, no permission).
    """
    fs, path = resolve(uri)
    try:
        return fs.get_file_info(path).type != pafs.FileType.NotFound
    except (OSError, pa.ArrowException) as exc:
        raise RobotRayError(f"cannot look up {uri!s} ({exc}): check the path, the bucket and its permissions") from exc


def read_bytes(uri: str | os.PathLike) -> bytes:
    """The whole content of one file or object.

    Raises:
        RobotRayError: it does not exist or cannot be read.
    """
    fs, path = resolve(uri)
    try:
        with fs.open_input_stream(path) as f:
            return f.read()
    except (OSError, pa.ArrowException) as exc:
        raise RobotRayError(f"cannot read {uri!s} ({exc})") from exc


def _files_under(fs: pafs.FileSystem, path: str) -> list[pafs.FileInfo]:
    return [i for i in fs.get_file_info(pafs.FileSelector(path, recursive=True)) if i.type == pafs.FileType.File]


def upload_dir(local: str | os.PathLike, uri: str | os.PathLike) -> int:
    """Copy every file under the local directory ``local`` to ``uri``; returns the file count.

    Files are written one by one (each atomically, see :func:`write_bytes_atomic`), so an
    interrupted upload leaves whole files; uploading again overwrites them.

    Raises:
        RobotRayError: ``local`` is not a directory, or ``uri`` cannot be written.
    """
    root = Path(local)
    if not root.is_dir():
        raise RobotRayError(f"cannot upload {local!s}: not a directory")
    fs, base = resolve(uri)
    count = 0
    try:
        fs.create_dir(base, recursive=True)
        for file in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = file.relative_to(root).as_posix()
            if isinstance(fs, pafs.LocalFileSystem):
                write_bytes_atomic(_join(base, rel), file.read_bytes())
            else:  # stream: result files can be larger than we want in memory
                fs.create_dir(_join(base, rel).rsplit("/", 1)[0], recursive=True)
                with open(file, "rb") as src, fs.open_output_stream(_join(base, rel)) as dst:
                    while chunk := src.read(1 << 22):
                        dst.write(chunk)
            count += 1
    except (OSError, pa.ArrowException) as exc:
        raise RobotRayError(f"cannot upload {local!s} to {uri!s} ({exc}): check the bucket and its permissions") from exc
    return count


def _copy_from(fs: pafs.FileSystem, path: str, local: Path) -> None:
    """Stream one object to a local file (result files can be larger than we want in memory)."""
    with fs.open_input_stream(path) as src, open(local, "wb") as dst:
        while chunk := src.read(1 << 22):
            dst.write(chunk)


def local_path_for_key(dest: str | os.PathLike, key: str, *, source: str | os.PathLike = "") -> Path:
    """Where the object ``key`` (relative to the downloaded prefix) goes under the directory ``dest``.

    Why: object-store keys are arbitrary strings; ``a/../../x`` or ``/etc/x`` is a legal key, and
    joined onto ``dest`` as it is, it would write outside it (a path traversal by whoever can write
    the bucket). Only keys that stay inside ``dest`` are mapped: relative, no ``..`` segment, no
    NUL, and inside ``dest`` after resolving symbolic links already under ``dest``.

    Raises:
        RobotRayError: the key escapes ``dest``, naming the key and ``source``.
    """
    where = f" in {source!s}" if source else ""
    parts = key.split("/")
    if (not key or key.startswith("/") or "\0" in key or ".." in parts
            or not any(p not in ("", ".") for p in parts)):
        raise RobotRayError(
            f"refusing object key {key!r}{where}: it would be written outside {str(dest)!r} (absolute, empty or with "
            "'..'); remove or rename that object, or download from a prefix you trust"
        )
    root = Path(dest).resolve()
    target = (root / key).resolve()
    if target == root or root not in target.parents:
        raise RobotRayError(
            f"refusing object key {key!r}{where}: it resolves to {str(target)!r}, outside {str(root)!r} "
            "(a symbolic link under the destination?); download into an empty directory"
        )
    return root / key


def download_dir(uri: str | os.PathLike, local: str | os.PathLike) -> int:
    """Copy every file under ``uri`` (a directory or prefix, or one file) into ``local``.

    Returns the number of files copied; an empty or missing prefix copies nothing and returns 0
    (a first run has nothing to resume from). Every key is checked before anything is written
    (:func:`local_path_for_key`): one key that escapes ``local`` refuses the whole download.

    Raises:
        RobotRayError: ``uri`` cannot be listed or read, or holds a key that escapes ``local``.
    """
    fs, base = resolve(uri)
    dest = Path(local)
    try:
        info = fs.get_file_info(base)
        if info.type == pafs.FileType.NotFound:
            return 0
        if info.type == pafs.FileType.File:
            files, base = [info], base.rsplit("/", 1)[0]
        else:
            files = _files_under(fs, base)
        prefix = base.rstrip("/") + "/"
        targets = []
        for item in files:
            if not item.path.startswith(prefix):
                raise RobotRayError(f"refusing object {item.path!r}: listed under {uri!s} but not below {prefix!r}")
            targets.append((item.path, local_path_for_key(dest, item.path[len(prefix):], source=uri)))
        for path, target in targets:
            atomic_write_with(target, partial(_copy_from, fs, path))
    except (OSError, pa.ArrowException) as exc:
        raise RobotRayError(f"cannot download {uri!s} ({exc}): check the URI and your credentials") from exc
    return len(files)


def check_writable(uri: str | os.PathLike) -> None:
    """Fail in seconds, not after an hour's search, when results could not be stored at ``uri``.

    Creates the directory (or prefix) and writes and deletes a small probe object.

    Raises:
        RobotRayError: the bucket does not exist, credentials are missing, the path is
            read-only or is a file.
    """
    fs, base = resolve(uri)
    probe = _join(base, f"{_PROBE_PREFIX}{uuid.uuid4().hex}")
    try:
        info = fs.get_file_info(base)
        if info.type == pafs.FileType.File:
            raise RobotRayError(f"output location {uri!s} is a file: pass a directory or prefix")
        fs.create_dir(base, recursive=True)
        with fs.open_output_stream(probe) as f:
            f.write(b"ok")
        fs.delete_file(probe)
    except RobotRayError:
        raise
    except (OSError, pa.ArrowException) as exc:
        raise RobotRayError(
            f"output location {uri!s} is not writable ({exc}): check that the bucket or directory "
            "exists and that this node's credentials may write to it"
        ) from exc


def stage_dir(uri: str, *, root: str | os.PathLike | None = None) -> Path:
    """A local copy of the input ``uri`` (a file, or a directory/prefix), downloaded once per node.

    Why: benchmark tables and metric caches are read many times but never change under a
    given URI; re-downloading them for every job wastes minutes. Delete the stage directory
    (``$ROBOT_RAY_STAGE`` or ``~/.cache/robot-ray/stage``) to force a fresh copy.

    Returns:
        The local file when ``uri`` names one object, else the local directory.

    Raises:
        RobotRayError: ``uri`` holds no files or cannot be read.
    """
    base = Path(root or os.environ.get("ROBOT_RAY_STAGE") or Path.home() / ".cache" / "robot-ray" / "stage")
    dest = base / hashlib.sha256(uri.encode()).hexdigest()[:16]
    marker = dest / ".robot-ray-staged"  # "<uri>\n<file name or empty>": written last, so a half copy is redone
    if not marker.exists():
        fs, path = resolve(uri)
        try:
            is_file = fs.get_file_info(path).type == pafs.FileType.File
        except (OSError, pa.ArrowException) as exc:
            raise RobotRayError(f"cannot read {uri} ({exc}): check the URI and your credentials") from exc
        if download_dir(uri, dest) == 0:
            raise RobotRayError(f"nothing found at {uri}: check the URI (a directory/prefix or a file)")
        marker.write_text(f"{uri}\n{path.rsplit('/', 1)[-1] if is_file else ''}")
    lines = marker.read_text().split("\n")
    name = lines[1] if len(lines) > 1 else ""
    return local_path_for_key(dest, name, source=uri) if name else dest
