"""What the ``jobs/*.py`` entrypoints share: run one ``robot-ray`` command as a Ray Job.

Why a wrapper and not the CLI itself: on a cluster the job driver runs on the head node, whose
disk goes away with ``ray down``, and inputs usually sit in a bucket. So the wrapper

* puts the submitted working directory first on ``sys.path`` (the code you submitted is the
  code that runs, even where an older robot-ray is installed on the nodes);
* stages input URIs (``--data-dir``, ``--cache``, ``--metric-table``) to a local copy, once per
  node (:func:`robot_ray.io.storage.stage_dir`);
* for an output URI (``--out s3://...``, ``gs://...``, ``file://...``): checks it is writable
  before any work starts, runs into a local temporary directory (first downloading what is
  already there when the command resumes), and uploads the directory when the command ends,
  also when it fails, so an interrupted search can be resumed from the bucket with ``--resume``;
* holds the writer's lease on that output URI (:mod:`robot_ray.io.lease`) from before the download
  to after the upload, so a second job writing the same URI is refused naming the first (or, with
  ``--wait SECONDS``, waits for it) instead of overwriting its rows.

Local paths pass through untouched. The Ray cluster is found the way Ray Jobs set it up
(``$RAY_ADDRESS``), through :func:`robot_ray.cluster.connect` inside the commands.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if (REPO / "robot_ray").is_dir() and str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

try:  # torch before pyarrow/ray: loaded late, its libraries can fail with "Cannot load libtorch_cpu.so"
    import torch  # noqa: E402,F401  (static TLS is used up by then inside a Ray job driver)
except ImportError:  # pragma: no cover - robot-ray installs torch
    pass

from robot_ray.errors import RobotRayError  # noqa: E402  (after the sys.path fix above)

INPUT_OPTIONS: tuple[str, ...] = ("--data-dir", "--cache", "--metric-table")
OUTPUT_OPTION = "--out"
RESUME_OPTION = "--resume"
WAIT_OPTION = "--wait"


def _find(argv: list[str], option: str) -> tuple[int, str] | None:
    """``(index, value)`` for ``--opt VALUE`` or ``--opt=VALUE``; the last one wins, as in click."""
    found = None
    for i, arg in enumerate(argv):
        if arg == option and i + 1 < len(argv):
            found = (i + 1, argv[i + 1])
        elif arg.startswith(option + "="):
            found = (i, arg[len(option) + 1:])
    return found


def _replace(argv: list[str], index: int, option: str, value: str) -> None:
    """Put ``value`` where :func:`_find` found the old one, keeping its ``--opt=`` form if it had one."""
    argv[index] = f"{option}={value}" if argv[index].startswith(option + "=") else value


def run(command: str, argv: list[str] | None = None, *, resume_output: bool = False) -> int:
    """Run ``robot-ray COMMAND ARGV`` with URI staging; returns the exit code (0 ok, 2 user error).

    Args:
        command: the ``robot-ray`` subcommand (``search``, ``compare``, ``precompute``).
        argv: its options, exactly as the CLI takes them (default ``sys.argv[1:]``).
        resume_output: always download an existing ``--out`` URI first (commands that resume
            by themselves, such as precompute); otherwise only when ``--resume`` is given.
    """
    from robot_ray.io import storage
    from robot_ray.cli import main

    args = list(sys.argv[1:] if argv is None else argv)
    if command not in main.commands:
        print(f"robot-ray: error: this robot-ray has no `{command}` command (is the submitted working "
              "directory up to date?)", file=sys.stderr)
        return 2
    from robot_ray.io.lease import LEASE_FILE, Lease
    from robot_ray.io.trust import check_private_dir

    out_uri: str | None = None
    tmp: Path | None = None
    lease: Lease | None = None
    code = 1
    try:
        for option in INPUT_OPTIONS:
            hit = _find(args, option)
            if hit and storage.is_uri(hit[1]):
                local = storage.stage_dir(hit[1])
                print(f"staged {hit[1]} -> {local}", flush=True)
                _replace(args, hit[0], option, str(local))
        # the output is --out, or for `search --resume OUT` the resumed directory (its --out is unused)
        for option in (RESUME_OPTION, OUTPUT_OPTION):
            hit = _find(args, option)
            if not (hit and storage.is_uri(hit[1])):
                continue
            if out_uri is None:
                out_uri = hit[1]
                storage.check_writable(out_uri)
                wait = _find(args, WAIT_OPTION)
                lease = Lease(out_uri, what=f"{command} output", wait=_seconds(wait[1]) if wait else 0.0,
                              hint="or write to another --out").acquire()
                tmp = Path(tempfile.mkdtemp(prefix=f"robot-ray-{command}-"))
                resuming = RESUME_OPTION in args or any(a.startswith(RESUME_OPTION + "=") for a in args)
                if resuming:
                    # the resumed copy is ours, so check the source: a file:// run must be private to
                    # us (Tune's state is unpickled); s3/gs: the bucket policy is the boundary
                    check_private_dir(out_uri, "the run to resume")
                if resume_output or resuming:
                    n = storage.download_dir(out_uri, tmp)
                    for held in tmp.glob(f"*{LEASE_FILE}*"):  # our own lease on the URI: not the command's
                        held.unlink()
                    print(f"resuming from {out_uri} ({n} files)", flush=True)
            elif hit[1].rstrip("/") != out_uri.rstrip("/"):
                raise RobotRayError(f"{option} {hit[1]} and {RESUME_OPTION} {out_uri} differ: a resumed search "
                                    "writes where it was started; pass one location")
            _replace(args, hit[0], option, str(tmp))
        try:
            main.main(args=[command, *args], prog_name="robot-ray", standalone_mode=True)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except RobotRayError as exc:
        print(f"robot-ray: error: {exc}", file=sys.stderr)
        code = 2
    finally:
        try:
            if out_uri and tmp is not None:
                try:
                    for held in tmp.glob(f"*{LEASE_FILE}*"):  # never upload a lease over the URI's
                        held.unlink()
                    if lease is not None and lease.lost:
                        raise RobotRayError(f"{lease.lost}: not uploading over it")
                    if any(tmp.iterdir()):
                        n = storage.upload_dir(tmp, out_uri)
                        print(f"uploaded {n} files to {out_uri}", flush=True)
                except RobotRayError as exc:
                    print(f"robot-ray: error: {exc} (the local copy stays in {tmp})", file=sys.stderr)
                    return 2
                shutil.rmtree(tmp, ignore_errors=True)
        finally:
            if lease is not None:
                lease.release()
    return code


def _seconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise RobotRayError(f"{WAIT_OPTION} takes seconds, got {text!r}") from None
