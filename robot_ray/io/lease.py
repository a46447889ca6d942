"""A lease for the one writer of an output: a lock file (or object) with owner, heartbeat and expiry.

Why: two ``robot-ray precompute`` runs, or two Ray Jobs, writing one metric cache plan their shards
independently and overwrite each other's files and manifest; two searches with one ``--out``
overwrite each other's results. An OS lock (``flock``) only sees processes of one machine and does
not exist on object stores, so every writer of an output holds this lease instead:

* **Acquire** = an exclusive conditional create of ``LOCATION/.robot-ray-lease``, holding JSON
  ``{format, version, what, owner: {host, pid, uuid, node, start}, acquired, heartbeat, expires,
  ttl_s, command}``. Locally (plain paths and ``file://`` URIs alike) the file is written under a
  temporary name and hard-linked onto the lease name: ``link`` fails when the name exists, like
  ``open(O_CREAT | O_EXCL)``, and a reader never sees half a lease (where the filesystem has no
  hard links, ``O_CREAT | O_EXCL`` then a write). Object stores reached through ``pyarrow.fs``
  (``s3://``, ``gs://``) offer no conditional write there, so the best available is used: check
  that no lease exists, write ours, wait :data:`SETTLE_S`, read it back and hold it only if it
  still names us (both stores are strongly read-after-write consistent, so of two writers racing
  within the settle time exactly one reads itself back). Two writers whose check and write are
  further apart than that can both believe they hold it; the heartbeat then finds the other's
  lease and marks ours lost (:meth:`Lease.check` raises), so the loser stops before its next
  write. Clocks of the writers' machines are assumed to agree to well within the expiry.
* **Heartbeat**: a daemon thread renews ``heartbeat`` and ``expires`` every ``ttl / 4``.
* **Expiry and takeover**: a lease whose ``expires`` is past (its owner died or hung for a whole
  ``ttl``) is taken over, with a log line naming the old owner. On the owner's own machine a dead
  owner is seen at once (its pid is gone, or now belongs to a process started at another time),
  so a ``kill -9``'d run resumes without waiting for the expiry.
* **Refusal or wait**: a live lease of another writer raises :class:`RobotRayError` naming the
  holder (host, pid, since) and the fix, or, with ``wait`` seconds, polls until it is free.
* **Release** on leaving the ``with`` block, whatever ends it (return, error, ``KeyboardInterrupt``);
  a local output directory created only to hold the lease is removed again if it is still empty,
  so a run refused after taking the lease (a request the cluster cannot meet) leaves no ``--out``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs

from robot_ray.errors import RobotRayError
from robot_ray.io.atomic import atomic_write_bytes
from robot_ray.io.storage import resolve

log = logging.getLogger(__name__)

LEASE_FILE = ".robot-ray-lease"
"""The lease's name inside the output directory or prefix (hidden: pyarrow datasets skip it)."""
FORMAT = "robot-ray-lease"
VERSION = 1
TTL_S = 60.0
"""Default expiry: a lease not renewed for this long belongs to a dead or hung writer."""
SETTLE_S = 2.0
"""Object stores: how long a writer waits before reading its new lease back (see the module doc)."""

__all__ = ["LEASE_FILE", "Lease", "LeaseBusy", "hold", "read_lease"]


class LeaseBusy(RobotRayError):
    """Another live writer holds the lease; the message names it and the fix."""


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds")


def _node() -> str:
    """This machine and PID namespace: pids are comparable only where this is equal."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        pidns = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return socket.gethostname()
    return f"{boot}:{pidns}"


def _start_time(pid: int) -> str | None:
    """The start time of process ``pid`` (clock ticks after boot; Linux), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _pid_alive(pid: int, start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        pass
    now = _start_time(pid)
    return start is None or now is None or now == start


# ---------------------------------------------------------------------------- backends


class _Local:
    """The lease as a local file: exclusive create by hard link (or ``O_EXCL``), atomic replace."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.made: list[Path] = []  # directories created for the lease, innermost first

    def _tmp(self) -> Path:
        return self.path.with_name(f"{self.path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")

    def create(self, data: bytes) -> bool:
        missing = [p for p in (self.path.parent, *self.path.parent.parents) if not p.exists()]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.made = self.made or missing
        tmp = self._tmp()
        try:
            tmp.write_bytes(data)
            try:
                os.link(tmp, self.path)
                return True
            except FileExistsError:
                return False
            except OSError as exc:  # no hard links here (some FUSE/SMB mounts): O_EXCL, then write
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                    raise
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            return True
        finally:
            tmp.unlink(missing_ok=True)

    def read(self) -> tuple[bytes, float] | None:
        try:
            return self.path.read_bytes(), self.path.stat().st_mtime
        except FileNotFoundError:
            return None

    def replace(self, data: bytes) -> None:
        atomic_write_bytes(self.path, data)

    def remove_if(self, old: bytes) -> bool:
        """Delete the lease only if it still holds ``old``: moved aside first, put back if it changed."""
        aside = self.path.with_name(f"{self.path.name}.old-{uuid.uuid4().hex[:8]}")
        try:
            self.path.rename(aside)  # a move, not a write: only one of several removers gets the file
        except FileNotFoundError:
            return True
        if aside.read_bytes() == old:
            aside.unlink(missing_ok=True)
            return True
        with contextlib.suppress(OSError):  # someone renewed or took it meanwhile: give it back
            os.link(aside, self.path)
        aside.unlink(missing_ok=True)
        return False


    def tidy(self) -> None:
        """Remove the directories made for the lease that are still empty (a refused or idle writer leaves none)."""
        for path in self.made:
            try:
                path.rmdir()
            except OSError:
                break
        self.made = []


class _Store:
    """The lease as an object (``s3://``, ``gs://``): check, write, settle, read back (no conditional put)."""

    def __init__(self, fs: pafs.FileSystem, path: str) -> None:
        self.fs, self.path = fs, path

    def create(self, data: bytes) -> bool:
        if self.read() is not None:
            return False
        self.replace(data)
        time.sleep(SETTLE_S)
        now = self.read()
        return now is not None and now[0] == data

    def read(self) -> tuple[bytes, float] | None:
        try:
            info = self.fs.get_file_info(self.path)
            if info.type == pafs.FileType.NotFound:
                return None
            with self.fs.open_input_stream(self.path) as f:
                data = f.read()
        except FileNotFoundError:
            return None
        mtime = info.mtime.timestamp() if info.mtime is not None else time.time()
        return data, mtime

    def replace(self, data: bytes) -> None:
        with self.fs.open_output_stream(self.path) as f:
            f.write(data)

    def remove_if(self, old: bytes) -> bool:
        now = self.read()
        if now is None:
            return True
        if now[0] != old:
            return False
        with contextlib.suppress(FileNotFoundError):
            self.fs.delete_file(self.path)
        return True

    def tidy(self) -> None:
        """Object stores have no directories to leave behind."""


# ---------------------------------------------------------------------------- the lease


def read_lease(location: str | os.PathLike) -> dict[str, Any] | None:
    """The lease record at ``location`` (a directory, prefix or URI), or None when nobody holds one."""
    backend = _backend(location)
    found = backend.read()
    return None if found is None else _parse(found)


def _backend(location: str | os.PathLike) -> _Local | _Store:
    fs, path = resolve(location)  # plain paths and file:// URIs both come back as LocalFileSystem
    target = f"{path.rstrip('/')}/{LEASE_FILE}"
    return _Local(target) if isinstance(fs, pafs.LocalFileSystem) else _Store(fs, target)


def _parse(found: tuple[bytes, float]) -> dict[str, Any]:
    """A lease record; an unreadable one counts as held by an unknown owner since its file's mtime."""
    data, mtime = found
    try:
        rec = json.loads(data)
        if isinstance(rec, dict) and rec.get("format") == FORMAT and isinstance(rec.get("owner"), dict):
            float(rec["expires_unix"])
            return rec
    except (ValueError, KeyError, TypeError):
        pass
    return {"format": FORMAT, "owner": {"host": "unknown", "pid": None, "uuid": None}, "acquired": _iso(mtime),
            "heartbeat": _iso(mtime), "expires_unix": mtime + TTL_S, "damaged": True}


def describe_owner(rec: dict[str, Any]) -> str:
    owner = rec.get("owner", {})
    return f"host {owner.get('host')}, pid {owner.get('pid')}, since {rec.get('acquired')}"


class Lease:
    """The lease on one output; use as ``with Lease(out, what="metric cache"):`` or :func:`hold`.

    Args:
        location: the output directory, prefix or URI (``file://``, ``s3://``, ``gs://``).
        what: what is written there, for messages (``"metric cache"``, ``"search output"``).
        hint: the other way out, appended to the refusal (``"or use another --out"``).
        ttl: seconds after the last heartbeat at which the lease counts as abandoned.
        wait: seconds to wait for a busy lease before refusing (0: refuse at once).

    Raises:
        LeaseBusy: (from :meth:`acquire`) another live writer holds it.
        RobotRayError: the location cannot be written.
    """

    def __init__(self, location: str | os.PathLike, *, what: str = "output", hint: str = "",
                 ttl: float = TTL_S, wait: float = 0.0) -> None:
        if not ttl > 0:
            raise RobotRayError(f"lease expiry must be > 0 seconds, got {ttl}")
        self.location, self.what, self.hint = str(location), what, hint
        self.ttl, self.wait = float(ttl), max(0.0, float(wait))
        self.uuid = uuid.uuid4().hex
        self._backend = _backend(location)
        self._record: dict[str, Any] | None = None
        self._data: bytes | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost: str | None = None

    # ------------------------------------------------------------------ records

    def _new_record(self, acquired: float | None = None) -> dict[str, Any]:
        now = time.time()
        acquired = now if acquired is None else acquired
        return {
            "format": FORMAT, "version": VERSION, "what": self.what,
            "owner": {"host": socket.gethostname(), "pid": os.getpid(), "uuid": self.uuid, "node": _node(),
                      "start": _start_time(os.getpid())},
            "acquired": _iso(acquired), "acquired_unix": acquired,
            "heartbeat": _iso(now), "heartbeat_unix": now,
            "expires": _iso(now + self.ttl), "expires_unix": now + self.ttl, "ttl_s": self.ttl,
            "command": " ".join(sys.argv)[:500],
        }

    @staticmethod
    def _encode(rec: dict[str, Any]) -> bytes:
        return (json.dumps(rec, indent=1) + "\n").encode()

    def _abandoned(self, rec: dict[str, Any]) -> str | None:
        """Why ``rec``'s owner is gone (expired, or a dead process on this machine), or None while it lives."""
        owner = rec.get("owner", {})
        if time.time() > float(rec["expires_unix"]):
            return f"its heartbeat {rec.get('heartbeat')} is older than its expiry"
        if owner.get("node") == _node() and isinstance(owner.get("pid"), int) and owner["pid"] != os.getpid():
            if not _pid_alive(owner["pid"], owner.get("start")):
                return f"its process {owner['pid']} on this machine is gone"
        return None

    # ------------------------------------------------------------------ acquire / renew / release

    def _try(self) -> dict[str, Any] | None:
        """Take the lease if free or abandoned; else the live holder's record."""
        rec = self._new_record()
        data = self._encode(rec)
        for _ in range(5):
            if self._backend.create(data):
                self._record, self._data = rec, data
                return None
            found = self._backend.read()
            if found is None:
                continue  # released between our create and our read: try again
            held = _parse(found)
            why = self._abandoned(held)
            if why is None:
                return held
            if self._backend.remove_if(found[0]):
                log.warning("%s %s: taking over the lease of %s (%s)", self.what, self.location,
                            describe_owner(held), why)
        found = self._backend.read()  # still contended after several rounds: report who holds it now
        return _parse(found if found is not None else (b"", time.time()))

    def acquire(self) -> Lease:
        """Take the lease (waiting up to ``wait`` seconds for a live holder) and start the heartbeat."""
        deadline = time.monotonic() + self.wait
        told = False
        try:
            while True:
                held = self._try()
                if held is None:
                    break
                if time.monotonic() >= deadline:
                    self._backend.tidy()
                    raise LeaseBusy(self._busy_message(held))
                if not told:
                    log.warning("%s %s is being written by %s: waiting up to %.0f s", self.what, self.location,
                                describe_owner(held), self.wait)
                    told = True
                time.sleep(min(max(self.ttl / 8, 0.05), 5.0, max(0.05, deadline - time.monotonic())))
        except (OSError, pa.ArrowException) as exc:
            raise RobotRayError(f"cannot create the writer's lease in {self.location} ({exc}): check that it is "
                                "writable") from exc
        self._stop.clear()
        self._thread = threading.Thread(target=self._beat, name=f"robot-ray-lease-{self.uuid[:8]}", daemon=True)
        self._thread.start()
        return self

    def _busy_message(self, held: dict[str, Any]) -> str:
        expires = held.get("expires") or _iso(float(held["expires_unix"]))
        same = held.get("owner", {}).get("pid") == os.getpid() and held["owner"].get("node") == _node()
        who = describe_owner(held) + (" (this same process: another writer in it)" if same else "")
        return (f"{self.what} {self.location} is being written by {who} (lease renewed {held.get('heartbeat')}, "
                f"expires {expires} unless renewed): two writers would lose each other's data; wait for it to "
                f"finish{', ' + self.hint if self.hint else ''}")

    def renew(self) -> None:
        """Renew the heartbeat now; marks the lease lost if another writer holds it."""
        with self._lock:
            if self._record is None or self.lost:
                return
            found = self._backend.read()
            if found is None or found[0] != self._data:
                holder = describe_owner(_parse(found)) if found is not None else "nobody (it was deleted)"
                self.lost = f"the lease on {self.what} {self.location} is now held by {holder}"
                log.error("%s: this writer must stop", self.lost)
                return
            rec = {**self._new_record(float(self._record["acquired_unix"]))}
            data = self._encode(rec)
            self._backend.replace(data)
            self._record, self._data = rec, data

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl / 4):
            try:
                self.renew()
            except Exception as exc:  # a transient store error: the next beat tries again
                log.warning("cannot renew the lease on %s (%s)", self.location, exc)
            if self.lost:
                return

    def check(self) -> None:
        """Raise if the lease was lost (another writer took it over): call before writing.

        Raises:
            RobotRayError: naming the new holder.
        """
        if self.lost:
            raise RobotRayError(f"{self.lost} (this run stalled longer than the lease expiry of {self.ttl:.0f} s?); "
                                "nothing more is written by this run: rerun once the other writer is done")

    def release(self) -> None:
        """Stop the heartbeat and delete the lease if it is still ours."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        with self._lock:
            if self._data is not None and not self.lost:
                with contextlib.suppress(OSError, pa.ArrowException):
                    self._backend.remove_if(self._data)
                    self._backend.tidy()  # an output directory made only for the lease, left empty
            self._record = self._data = None

    def __enter__(self) -> Lease:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


@contextlib.contextmanager
def hold(location: str | os.PathLike, *, what: str = "output", hint: str = "", ttl: float = TTL_S,
         wait: float = 0.0) -> Iterator[Lease]:
    """``with hold(out, what="search output", hint="or use another --out") as lease: ...``; see :class:`Lease`."""
    lease = Lease(location, what=what, hint=hint, ttl=ttl, wait=wait)
    with lease:
        yield lease
