"""Refuse to unpickle from a directory someone else can write: the trust check before a resume.

Why: robot-ray's own state is JSON, but resuming a search on Ray continues Tune's experiment
with ``Tuner.restore``, which unpickles what Tune wrote (the tuner, the trainable, the trials'
states and checkpoints). Whoever can write one of those files, or replace the directory, can make
the resume run code as you. So before a resume the whole local tree must be yours and writable by
you alone, as ssh's ``StrictModes`` demands of ``~/.ssh``:

* the directory and every directory and file under it (a symbolic link: its target) is owned by
  the current user and not writable by group or others;
* no directory above it is writable by group or others without the sticky bit (``/tmp`` is
  fine), since whoever can write there can swap the whole directory for their own.

Object-store URIs (``s3://``, ``gs://``) get no check here: their access policy is the boundary
(see docs/security.md). ``file://`` URIs are local paths and are checked. On a platform without
POSIX owners (Windows) nothing is checked.
"""

from __future__ import annotations

import os
import shlex
import stat
from pathlib import Path
from urllib.parse import unquote, urlparse

from robot_ray.errors import RobotRayError

_GROUP_OTHER_WRITE = stat.S_IWGRP | stat.S_IWOTH


def local_path(location: str | os.PathLike) -> Path | None:
    """The local path of ``location`` (a path or a ``file://`` URI); None for an object-store URI."""
    text = os.fspath(location)
    if "://" not in text:
        return Path(text)
    parsed = urlparse(text)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    return None


def check_private_dir(location: str | os.PathLike, what: str, *, uid: int | None = None) -> None:
    """Refuse ``location`` unless it and everything under it is yours and writable by you alone.

    Args:
        location: a local directory or a ``file://`` URI (other URIs are not checked). A
            directory that does not exist passes: there is nothing in it to read.
        what: what will be read from it, for the message (``"the Tune experiment to resume"``).
        uid: the owner to require (default: the current user).

    Raises:
        RobotRayError: naming the first file or directory that fails, why, and the fix.
    """
    path = local_path(location)
    if path is None or not hasattr(os, "getuid"):
        return
    uid = os.getuid() if uid is None else uid
    root = Path(os.path.abspath(path))
    if not root.exists():
        return
    for parent in root.parents:
        try:
            st = os.stat(parent)
        except OSError:
            continue
        if st.st_mode & _GROUP_OTHER_WRITE and not st.st_mode & stat.S_ISVTX:
            _refuse(what, root, parent, st, "writable by group or others (without the sticky bit), so they can "
                    f"replace {root.name}", f"chmod go-w {shlex.quote(str(parent))}, or move the run to a "
                    "directory of your own")
    _check_entry(what, root, root, uid)
    if not root.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(root, onerror=_raise):
        for name in dirnames + filenames:
            _check_entry(what, root, Path(dirpath) / name, uid)


def _raise(exc: OSError) -> None:
    raise exc


def _check_entry(what: str, root: Path, path: Path, uid: int) -> None:
    try:
        st = os.stat(path)  # follows a symbolic link: what Tune would read is its target
    except FileNotFoundError:
        return  # a dangling link or a file removed meanwhile: nothing to read
    except OSError as exc:
        raise RobotRayError(f"cannot check {what} in {str(root)!r}: {path}: {exc.strerror or exc}") from exc
    if st.st_uid != uid:
        _refuse(what, root, path, st, f"owned by {_user(st.st_uid)}, not by you ({_user(uid)})",
                f"check its contents, then copy it into a new directory of your own (cp -r) or have it "
                f"chown -R'ed to you")
    if st.st_mode & _GROUP_OTHER_WRITE:
        _refuse(what, root, path, st, "writable by group or others",
                f"chmod -R go-w {shlex.quote(str(root))} if you trust what is in it")


def _refuse(what: str, root: Path, path: Path, st: os.stat_result, problem: str, fix: str) -> None:
    shown = str(path) if path == root or root not in path.parents else f"{root}/{path.relative_to(root)}"
    raise RobotRayError(
        f"refusing to read {what} from {str(root)!r}: {shown!r} (mode {stat.filemode(st.st_mode)}) is {problem}; "
        f"resuming unpickles Tune's state from there, so whoever can write it can run code as you: {fix}, "
        "or start a new search with another --out"
    )


def _user(uid: int) -> str:
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (ImportError, KeyError):
        return f"uid {uid}"
