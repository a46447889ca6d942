"""Limits the command line checks before anything starts: numbers, seed lists, output locations.

Why: a value Ray or Tune cannot use does not fail there, it hangs (``--trial-cpus nan``, a
request no node can meet) or runs away (``--seeds 0-100000000`` expands to 10^8 Python ints).
Every check here is pure or reads only metadata, so it runs before Ray starts and before
``--out`` is created; each failure is a :class:`RobotRayError` naming the flag and the fix.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

from robot_ray.errors import RobotRayError
from robot_ray.ranges import parse_int_list

MAX_SEEDS = 10_000
"""Seeds of one search: each is a full RoBoT run; more belongs in several searches (or jobs)."""
MAX_SEED = 2**31 - 1
"""Seeds seed numpy, torch and Ax alike; 0..2**31-1 is what all of them accept."""

_INT = r"\s*[+-]?\d+\s*"
_SINGLE = re.compile(rf"^{_INT}$")
_RANGE = re.compile(rf"^({_INT})-({_INT})$")


def check_number(value: float | int | None, flag: str, *, minimum: float, inclusive: bool = True,
                 hint: str = "") -> None:
    """``value`` (None: not given) is a finite number ``>= minimum`` (``> minimum`` when not ``inclusive``)."""
    if value is None:
        return
    bound = f">= {minimum:g}" if inclusive else f"> {minimum:g}"
    ok = math.isfinite(value) and (value >= minimum if inclusive else value > minimum)
    if not ok:
        raise RobotRayError(f"{flag} must be a finite number {bound}, got {value!r}" + (f"; {hint}" if hint else ""))


def parse_seeds(spec: str, *, flag: str = "--seeds", limit: int = MAX_SEEDS) -> list[int]:
    """``"10-19"`` or ``"1,5,9"`` as seeds, counted and bounded before a range is expanded.

    Raises:
        RobotRayError: malformed, more than ``limit`` seeds, or a seed outside 0..2**31-1.
    """
    count, low, high = 0, None, None
    for part in (spec or "").split(","):
        if not part.strip():
            continue
        m = _RANGE.match(part)
        if m and not _SINGLE.match(part):
            lo, hi = int(m.group(1)), int(m.group(2))
        elif _SINGLE.match(part):
            lo = hi = int(part)
        else:
            break  # malformed: parse_int_list below says so in its words
        count += max(0, hi - lo + 1)
        low = lo if low is None else min(low, lo)
        high = hi if high is None else max(high, hi)
    shown = repr(spec) if len(spec or "") <= 60 else repr(spec[:40] + "..." + spec[-12:])  # a 100 kB list: one short line
    if low is not None and (low < 0 or high > MAX_SEED):
        raise RobotRayError(f"{flag} {shown}: seeds must be in 0..{MAX_SEED}, got {low if low < 0 else high}")
    if count > limit:
        raise RobotRayError(f"{flag} {shown} names {count} seeds; at most {limit} per run: split them over several runs")
    return parse_int_list(spec, what=flag.lstrip("-"))


def check_output_location(out: str | os.PathLike, flag: str = "--out") -> None:
    """``out`` is a directory, or can be created as one, by this user (nothing is created here).

    A URI (``s3://b/x``, ``file:///x``) is refused: as a path it named a local directory
    ``s3:/b/x`` under the working directory, where results landed without a word.
    """
    if "://" in str(out):
        raise RobotRayError(f"{flag} {str(out)!r} is a URI; this command writes a local directory: pass a path "
                            "(on a cluster, the jobs/ scripts take URIs and upload: docs/cluster.md)")
    path = Path(out).expanduser()
    if path.exists():
        if not path.is_dir():
            raise RobotRayError(f"{flag} {str(out)!r} is a file: pass a directory")
        if not os.access(path, os.W_OK | os.X_OK):
            raise RobotRayError(f"{flag} {str(out)!r} is not writable by this user: pass another directory")
        return
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise RobotRayError(f"cannot create {flag} {str(out)!r}: {str(parent)!r} is a file, not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise RobotRayError(f"cannot create {flag} {str(out)!r}: {str(parent)!r} is not writable by this user")


MAX_ROUNDS = 1_000_000
"""BO proposals (or quasi-random ones) per seed: each is a GP fit, and no pool needs more."""


def check_at_most(value: int | None, flag: str, maximum: int, hint: str = "") -> None:
    """``value`` (None: not given) is at most ``maximum``."""
    if value is not None and value > maximum:
        raise RobotRayError(f"{flag} must be at most {maximum:,}, got {value}" + (f"; {hint}" if hint else ""))


def check_not_empty(**flags: str | None) -> None:
    """Each given flag value (``--out ""``, ``--address ""``) is not empty or blank.

    Why: an empty value was read as "not given" (a default directory, a local Ray, a new search
    instead of ``--resume``) or as the working directory: another run than the one asked for.
    Keys are flag names without dashes, underscores for dashes (``data_dir``).
    """
    for name, value in flags.items():
        if value is not None and not str(value).strip():
            flag = "--" + name.replace("_", "-")
            raise RobotRayError(f"{flag} is empty: pass a value or leave the flag out for its default")


def check_local_cpus(num_cpus: int | None, address: str | None) -> None:
    """``--num-cpus`` of a local Ray is at most this machine's CPUs.

    Why: Ray takes any number as logical CPUs; Tune then runs that many trials at once on a
    machine that has far fewer (``--num-cpus 100000``: thousands of processes). With
    ``--address`` (or ``$RAY_ADDRESS``) no local Ray starts and ``--num-cpus`` is not used.
    """
    if num_cpus is None or address or os.environ.get("RAY_ADDRESS"):
        return
    have = os.cpu_count() or 1
    if num_cpus > have:
        raise RobotRayError(f"--num-cpus {num_cpus} is more than this machine's {have} CPUs: "
                            f"pass at most {have}, or leave it out to use all of them")
